"""Which dataset design works with DataLoader(ds, batch_size=8, shuffle=True)?

Each choice is written as a small dataset of 20 samples (sample i is a vector of three i's),
handed to the same DataLoader, and iterated for one epoch. A design works if the epoch runs,
every batch holds single samples of shape (3,), and every sample comes exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from bot.worker.lab.env import seed_everything

N, BATCH = 20, 8


def sample(i: int) -> torch.Tensor:
    return torch.full((3,), float(i))


class LenAndGetitem(Dataset):
    """A: __len__ and __getitem__(index) -> one sample."""

    def __len__(self):
        return N

    def __getitem__(self, i):
        return sample(i)


class GetitemOnly(Dataset):
    """B: only __getitem__, raising IndexError past the end like a Python sequence."""

    def __getitem__(self, i):
        if i >= N:
            raise IndexError(i)
        return sample(i)


class IterOnly(IterableDataset):
    """C: __iter__ yielding one sample at a time."""

    def __iter__(self):
        return (sample(i) for i in range(N))


class BatchPerItem(Dataset):
    """D: __len__ is the number of batches and __getitem__ returns a whole batch."""

    def __len__(self):
        return -(-N // BATCH)

    def __getitem__(self, b):
        return torch.stack([sample(i) for i in range(b * BATCH, min(N, (b + 1) * BATCH))])


DESIGNS = {"A": LenAndGetitem, "B": GetitemOnly, "C": IterOnly, "D": BatchPerItem}


@dataclass
class Outcome:
    error: str = ""  # "" if one epoch ran
    shapes: tuple[tuple[int, ...], ...] = ()
    ids: tuple[int, ...] = ()  # sample ids in the order they came

    @property
    def works(self) -> bool:
        return (not self.error and all(s[1:] == (3,) for s in self.shapes)
                and sorted(self.ids) == list(range(N)))

    def describe(self) -> str:
        if self.error:
            return f"fails: {self.error}"
        shown = ", ".join(str(s) for s in self.shapes[:3])
        more = ", ..." if len(self.shapes) > 3 else ""
        verdict = ("every sample once" if self.works
                   else f"{len(self.ids)} sample ids, not every sample once")
        return f"runs, batch shapes {shown}{more}; {verdict}"


def try_design(cls) -> Outcome:
    try:
        batches = list(DataLoader(cls(), batch_size=BATCH, shuffle=True))
    except Exception as exc:  # the failure is the measurement
        return Outcome(error=f"{type(exc).__name__}: {str(exc)[:90]}")
    ids = tuple(int(v) for b in batches for v in b.reshape(-1, 3)[:, 0].tolist())
    return Outcome(shapes=tuple(tuple(b.shape) for b in batches), ids=ids)


def decide(works: dict[str, bool]) -> str:
    """The one design whose epoch ran correctly; raises if none or several did."""
    good = [letter for letter, ok in works.items() if ok]
    if len(good) != 1:
        raise RuntimeError(f"designs that worked: {good}; expected exactly one")
    return good[0]


def run(ctx):
    per_seed: list[dict[str, Outcome]] = []
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)  # changes the shuffle order only
        per_seed.append({letter: try_design(cls) for letter, cls in DESIGNS.items()})
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    first = per_seed[0]
    ctx.log(f"DataLoader(ds, batch_size={BATCH}, shuffle=True), one epoch over {N} samples "
            f"(seed {ctx.seeds[0]}):")
    for letter, cls in DESIGNS.items():
        what = cls.__doc__.split(":")[1].strip().rstrip(".")
        ctx.log(f"  {letter} ({what}) {first[letter].describe()}")
    agree = sum({k: o.works for k, o in s.items()} == {k: o.works for k, o in first.items()}
                for s in per_seed)
    ctx.log(f"The same designs worked in {agree} of {len(ctx.seeds)} seeds.")
    works = {k: all(s[k].works for s in per_seed) for k in DESIGNS}
    answer = decide(works)
    order = [first["A"].ids[:BATCH]] + [s["A"].ids[:BATCH] for s in per_seed[1:2]]
    ctx.log(f"First batch's sample ids for A: {list(order[0])}"
            + (f" (seed {ctx.seeds[1]}: {list(order[1])})" if len(order) > 1 else ""))
    ctx.log("\nWhy: with shuffle=True the DataLoader's sampler draws a random permutation of "
            "range(len(ds)), so it needs __len__; then it calls ds[i] once per index and "
            f"collates {BATCH} samples into a batch. B has no __len__, so the sampler cannot "
            "start. An IterableDataset (C) has no indices to permute, and DataLoader refuses "
            "shuffle=True for it. D makes the loader collate whole batches (and here the "
            "short last one does not even stack): batching is the DataLoader's job, not the "
            "dataset's.")
    return {"answer": answer, "metrics": {
        **{f"works_{k}": int(v) for k, v in works.items()},
        "seeds_agreeing": agree, "seeds": len(ctx.seeds)}}
