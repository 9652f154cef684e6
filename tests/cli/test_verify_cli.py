"""`tutorbot questions verify` exits 1 naming a problem whose key its run contradicts."""

import shutil
import subprocess
import sys

import yaml


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


def verify(repo_root, packs, cache):
    return subprocess.run(
        [sys.executable, "-m", "bot", "questions", "verify", str(packs)], cwd=repo_root,
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
