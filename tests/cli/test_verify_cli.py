"""`questions verify`: a contradicted key fails and is named; --pack and --problem choose."""

import shutil
import subprocess
import sys

import yaml

from tests.bank.builders import pack_text, problem_text, write_pack


def one_problem_pack(repo_root, tmp_path, key: str):
    source = repo_root / "questions" / "pretrained-models"
    pack = tmp_path / "packs" / "params-only"
    (pack / "experiments").mkdir(parents=True)
    shutil.copy(source / "experiments" / "trainable_params.py", pack / "experiments")
    data = yaml.safe_load((source / "pack.yaml").read_text(encoding="utf-8"))
    problem = next(p for p in data["problems"]
                   if p["experiment"]["script"] == "trainable_params.py")
    problem["why_not"] = {k: "no" for k in problem["choices"] if k != key}
    problem["answer"] = key
    data.update(id="params-only", problems=[problem])
    (pack / "pack.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return pack.parent


def verify(repo_root, packs, cache, *options: str):
    return subprocess.run(
        [sys.executable, "-m", "bot", "questions", "verify", str(packs), *options],
        cwd=repo_root,
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "WORKER_CACHE_DIR": str(cache), "HOME": str(cache)})


def test_a_contradicted_key_fails_and_is_named(repo_root, tmp_path):
    packs = one_problem_pack(repo_root, tmp_path, key="B")
    result = verify(repo_root, packs, tmp_path / "cache")
    assert result.returncode == 1
    assert "key B, run derives A" in result.stdout
    assert "contradict the key of: frozen-resnet18-trainable-params" in result.stderr


def test_a_confirmed_key_passes(repo_root, tmp_path):
    packs = one_problem_pack(repo_root, tmp_path, key="A")
    result = verify(repo_root, packs, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "All 1 answer keys confirmed" in result.stdout


ANSWERS_B = 'def run(ctx):\n    return {"answer": "B", "metrics": {}}\n'


def two_packs_with_fast_experiments(tmp_path):
    """Packs `alpha` (problems a1, a2) and `beta` (b1), each problem's run deriving its key."""
    packs = tmp_path / "packs"
    for pack_id, problem_ids in (("alpha", ("a1", "a2")), ("beta", ("b1",))):
        problems = "".join(problem_text(pid) + "    experiment: {script: b.py}\n"
                           for pid in problem_ids)
        text = pack_text(pack_id, problem_ids[0]).split("  - id:")[0] + problems
        write_pack(packs / pack_id, text, scripts=("b.py",))
        (packs / pack_id / "experiments" / "b.py").write_text(ANSWERS_B, encoding="utf-8")
    return packs


def verified(stdout: str) -> list[str]:
    return [line.split(":")[0].removeprefix("✓ ") for line in stdout.splitlines()
            if line.startswith("✓ ")]


def test_pack_verifies_only_that_packs_problems(repo_root, tmp_path):
    packs = two_packs_with_fast_experiments(tmp_path)
    result = verify(repo_root, packs, tmp_path / "cache", "--pack", "alpha")
    assert result.returncode == 0, result.stderr
    assert sorted(verified(result.stdout)) == ["a1", "a2"]  # lanes report as they finish


def test_problem_verifies_only_that_problem(repo_root, tmp_path):
    packs = two_packs_with_fast_experiments(tmp_path)
    result = verify(repo_root, packs, tmp_path / "cache", "--problem", "b1")
    assert result.returncode == 0, result.stderr
    assert verified(result.stdout) == ["b1"]
    assert "All 1 answer keys confirmed" in result.stdout


def test_unknown_ids_are_named_and_nothing_runs(repo_root, tmp_path):
    packs = two_packs_with_fast_experiments(tmp_path)
    result = verify(repo_root, packs, tmp_path / "cache", "--pack", "gamma",
                    "--problem", "zz", "--problem", "a1")
    assert result.returncode == 2
    assert "no pack 'gamma'" in result.stderr and "(its packs: alpha, beta)" in result.stderr
    assert "no problem 'zz'" in result.stderr and "'a1'" not in result.stderr
    assert "Running" not in result.stdout


def test_jobs_share_the_work_and_report_every_problem(repo_root, tmp_path):
    packs = two_packs_with_fast_experiments(tmp_path)
    result = verify(repo_root, packs, tmp_path / "cache", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert "Running 3 experiments at size 'test', 2 at a time" in result.stdout
    assert sorted(verified(result.stdout)) == ["a1", "a2", "b1"]


def test_jobs_out_of_range_are_refused(repo_root, tmp_path):
    packs = two_packs_with_fast_experiments(tmp_path)
    result = verify(repo_root, packs, tmp_path / "cache", "--jobs", "0")
    assert result.returncode == 2
    assert "--jobs: must be a whole number from 1 to 16" in result.stderr
