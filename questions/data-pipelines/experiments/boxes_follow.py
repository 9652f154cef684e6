"""Does the box still surround the object after a random crop and flip?

Each trial draws a 48x64 image with one bright rectangle (the object) and its box, then
applies v2.Compose([RandomResizedCrop, RandomHorizontalFlip]) the way each choice does. The
true box afterwards is read off the transformed image's bright pixels; we score each choice
by the overlap (IoU) of the box it returns with that true box. Trials where the crop cut the
object out entirely are skipped (the same trials for every choice: the image comes out the
same way in all four, since it is always transformed first from the same seed).
"""

from __future__ import annotations

import statistics

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from bot.worker.lab.env import seed_everything

H, W = 48, 64
SIZES = {"test": 20, "cpu": 60, "full": 200}  # trials per seed
GOOD_IOU = 0.8  # a pipeline whose box keeps at least this overlap on average "follows" it

LABELS = {
    "A": "boxes as a plain tensor, separate call",
    "B": "boxes as a plain tensor, same call",
    "C": "BoundingBoxes, separate call",
    "D": "BoundingBoxes + Mask, same call",
}


def transform() -> v2.Compose:
    return v2.Compose([v2.RandomResizedCrop((H, W), scale=(0.5, 1.0)),
                       v2.RandomHorizontalFlip()])


def scene(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A uint8 image with one bright rectangle, its box (XYXY pixels) and its mask."""
    w = int(torch.randint(14, 30, (1,), generator=gen))
    h = int(torch.randint(10, 22, (1,), generator=gen))
    x = int(torch.randint(0, W - w, (1,), generator=gen))
    y = int(torch.randint(0, H - h, (1,), generator=gen))
    mask = torch.zeros(H, W, dtype=torch.uint8)
    mask[y:y + h, x:x + w] = 1
    image = (mask * 255).unsqueeze(0)  # (1, H, W) uint8, like decode_image's output
    return image, torch.tensor([[x, y, x + w, y + h]], dtype=torch.float32), mask


def apply(letter: str, t: v2.Compose, image, boxes, mask):
    """Returns (image, box or None, mask or None) the way choice `letter` does it."""
    wrapped = tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(H, W))
    if letter == "A":
        out = t(image)
        return out, t(boxes), None
    if letter == "B":
        out, box = t(image, boxes)
        return out, box, None
    if letter == "C":
        out = t(image)
        return out, t(wrapped), None
    if letter == "D":
        return t(image, wrapped, tv_tensors.Mask(mask))
    raise ValueError(letter)


def true_box(image: torch.Tensor) -> list[float] | None:
    ys, xs = torch.nonzero(image[0] > 127, as_tuple=True)
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1]


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mask_iou(mask: torch.Tensor, image: torch.Tensor) -> float:
    a, b = mask.bool(), image[0] > 127
    return float((a & b).sum()) / max(1, int((a | b).sum()))


def trial(letter: str, seed: int, gen_state: torch.Tensor) -> tuple[float | None, str, float]:
    """(box IoU or None if the object was cropped out, error text, mask IoU).

    The error text is "unchanged" when the call returned the input box untouched, and the
    mask IoU is -1 where no mask came back, or -2 if its values left {0, 1}."""
    gen = torch.Generator()
    gen.set_state(gen_state)
    image, boxes, mask = scene(gen)
    torch.manual_seed(seed)  # the same random crop and flip for the image in every choice
    t = transform()
    try:
        out, box, out_mask = apply(letter, t, image, boxes, mask)
    except Exception as exc:  # the failure is the measurement
        truth_image = _image_only(seed, image)
        return (None if true_box(truth_image) is None else 0.0), f"{type(exc).__name__}: " \
            f"{str(exc)[:60]}", -1.0
    truth = true_box(out)
    if truth is None:
        return None, "", -1.0
    score = iou([float(v) for v in box.reshape(-1, 4)[0]], truth)
    note = "unchanged" if torch.equal(box.as_subclass(torch.Tensor), boxes) else ""
    if out_mask is None:
        return score, note, -1.0
    if not set(out_mask.unique().tolist()) <= {0, 1}:
        return score, note, -2.0
    return score, note, mask_iou(out_mask, out)


def describe(notes: list[str]) -> str:
    """How often a choice raised (and with what) or returned its input box untouched."""
    errors = [n for n in notes if n and n != "unchanged"]
    unchanged = notes.count("unchanged")
    parts = []
    if errors:
        parts.append(f"raised in {len(errors)} of {len(notes)} trials, {errors[0]}")
    if unchanged:
        parts.append(f"box returned unchanged in {unchanged} of {len(notes)} trials")
    return f"\n     ({'; '.join(parts)})" if parts else ""


def _image_only(seed: int, image: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(seed)
    return transform()(image)


def decide(mean_iou: dict[str, float], good: float = GOOD_IOU) -> str:
    """The choice whose box overlaps the object best, if that overlap is good at all."""
    best = max(mean_iou, key=mean_iou.get)
    if mean_iou[best] < good:
        raise RuntimeError(f"no choice kept the box on the object: {mean_iou}")
    return best


def run(ctx):
    trials = int(ctx.params.get("trials", SIZES[ctx.size]))
    scores: dict[str, list[list[float]]] = {k: [] for k in LABELS}
    notes: dict[str, list[str]] = {k: [] for k in LABELS}
    mask_scores: list[float] = []
    skipped = 0
    for index, seed in enumerate(ctx.seeds):
        seed_everything(seed)
        gen = torch.Generator().manual_seed(seed)
        per = {k: [] for k in LABELS}
        for n in range(trials):
            state = gen.get_state()
            scene(gen)  # advance to the next scene
            results = {k: trial(k, seed * 10_000 + n, state) for k in LABELS}
            if any(r[0] is None for r in results.values()):
                skipped += 1
                continue
            for k, (score, note, m) in results.items():
                per[k].append(score)
                notes[k].append(note)
                if m != -1.0:
                    mask_scores.append(m)
        for k in LABELS:
            scores[k].append(per[k])
        ctx.progress(index + 1, len(ctx.seeds), f"seed {seed}")
    mean_iou = {k: statistics.fmean(s for run in v for s in run) for k, v in scores.items()}
    answer = decide(mean_iou)
    used = sum(len(run) for run in scores["D"])
    ctx.log(f"{used} random crops + flips over seeds {ctx.seeds} ({skipped} skipped: object "
            "cropped out). Overlap (IoU) of the returned box with the object's true box:")
    for k, label in LABELS.items():
        per_seed = ", ".join(f"{statistics.fmean(run):.2f}" for run in scores[k] if run)
        ctx.log(f"  {k} {label}: mean {mean_iou[k]:.2f} [{per_seed}]{describe(notes[k])}")
    held = sum(statistics.fmean(run) >= GOOD_IOU for run in scores[answer] if run)
    whole = all(m >= 0 for m in mask_scores)
    ctx.log(f"{answer} kept a mean IoU >= {GOOD_IOU} in {held} of {len(ctx.seeds)} seeds. The "
            f"returned Mask overlapped the object's bright pixels with mean IoU "
            f"{statistics.fmean(max(m, 0) for m in mask_scores):.2f}, and its values "
            + ("stayed 0 or 1 in every trial." if whole else "left {0, 1} in some trials."))
    ctx.log("\nWhy: a v2 transform draws its random parameters once per call and applies "
            "them to everything passed in that call, each by its type: BoundingBoxes are "
            "moved as boxes and a Mask as a label map (general knowledge: masks are resampled "
            f"with nearest-neighbour). Two separate calls draw two different crops, so the "
            f"box drifts off the object (C: {mean_iou['C']:.2f}). A plain tensor next to an "
            f"image came back unchanged (B: {mean_iou['B']:.2f}), and a plain (N, 4) tensor "
            "on its own raised (A; general knowledge: v2 takes a lone plain tensor for an "
            "image, and (N, 4) has no channel dimension).")
    return {"answer": answer, "metrics": {
        **{f"iou_{k}": round(v, 4) for k, v in mean_iou.items()},
        "mask_iou": round(statistics.fmean(mask_scores), 4), "trials_used": used,
        "trials_skipped": skipped, "seeds": len(ctx.seeds)}}
