"""docker-compose.yml describes a stack this code can run, checked without Docker.

Each tutorbot container's settings are put together the way Compose does it (the image's ENV,
then env_file, then `environment:` with `${...}` filled from .env), with .env.example standing
in for the .env a README reader copies, and then read by tutorbot's own Config and CLI parser.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import build_parser
from bot.config import SETTINGS, Config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text("utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# tutorbot's services are built from this Dockerfile; the others run official images.
OURS = sorted(name for name, service in SERVICES.items() if "build" in service)
HEALTHY = {"condition": "service_healthy"}


def dotenv(path: Path) -> dict[str, str]:
    """NAME=value lines, as Compose reads an env_file and the .env it interpolates from."""
    pairs = (line.split("=", 1) for line in path.read_text("utf-8").splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


DOTENV = dotenv(ROOT / ".env.example")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def interpolate(value: str) -> str:
    """${NAME} and ${NAME:-default} filled from the README reader's .env (empty: the default)."""
    return INTERPOLATION.sub(lambda m: DOTENV.get(m[1]) or m[2] or "", value)


def dockerfile_stages() -> dict[str, dict[str, Any]]:
    """Each stage's ENV and RUN lines, a stage built FROM another inheriting them."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text("utf-8"))
    stages: dict[str, dict[str, Any]] = {}
    stage: dict[str, Any] = {}
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "FROM":
            base, _, name = rest.partition(" AS ")
            parent = stages.get(base.strip(), {"env": {}, "runs": []})
            stage = stages[name.strip()] = {"env": dict(parent["env"]),
                                            "runs": list(parent["runs"])}
        elif instruction == "ENV":
            stage["env"].update(word.split("=", 1) for word in shlex.split(rest))
        elif instruction == "RUN":
            stage["runs"].append(rest)
    return stages


STAGES = dockerfile_stages()


def stage_of(name: str) -> dict[str, Any]:
    build = SERVICES[name]["build"]
    target = build.get("target") if isinstance(build, dict) else None
    return STAGES[target or list(STAGES)[-1]]  # no target: the Dockerfile's last stage


def environment(name: str) -> dict[str, str]:
    """What tutorbot sees in the service's container, ${...} filled in."""
    service = SERVICES[name]
    assert service.get("env_file") in (".env", [".env"]), f"{name} reads settings from .env"
    pinned = {key: interpolate("" if value is None else str(value))
              for key, value in (service.get("environment") or {}).items()}
    return stage_of(name)["env"] | DOTENV | pinned


def argv(name: str) -> list[str]:
    command = SERVICES[name].get("command") or ["tutorbot", "run"]  # the image's CMD
    return shlex.split(command) if isinstance(command, str) else list(command)


def runs_experiments(name: str) -> bool:
    return argv(name)[1:2] == ["worker"] or environment(name).get("EXPLAIN_BACKEND") == "local"


@pytest.mark.parametrize("name", OURS)
def test_each_tutorbot_service_runs_a_command_the_cli_has(name):
    assert "entrypoint" not in SERVICES[name], name
    command = argv(name)
    assert command[0] == "tutorbot", command
    try:
        args = build_parser().parse_args(command[1:])
    except SystemExit:
        pytest.fail(f"{name}: `{shlex.join(command)}` is not a tutorbot command")
    assert args.command == command[1]


@pytest.mark.parametrize("name", OURS)
def test_each_container_gets_settings_tutorbot_accepts(name, monkeypatch):
    settings = {s.name for s in SETTINGS}
    pinned = set(SERVICES[name].get("environment") or {})
    assert pinned <= settings, f"{name} sets what tutorbot never reads: {pinned - settings}"
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    for key, value in environment(name).items():
        if key in settings:
            monkeypatch.setenv(key, value)
    Config.from_env(load_dotenv=False)  # raises ConfigError naming what it refuses


def test_env_example_offers_every_variable_the_compose_file_reads():
    read = set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT)) - {"HOME"}  # HOME: the shell's own
    assert read <= set(DOTENV), f"not in .env.example: {read - set(DOTENV)}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_restarts_and_reports_its_health(name):
    service = SERVICES[name]
    assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name
    test = (service.get("healthcheck") or {}).get("test")
    assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_writable_mounts_are_declared_named_volumes(name):
    for volume in SERVICES[name].get("volumes") or []:
        source, target, *mode = volume.split(":")
        if source not in COMPOSE["volumes"]:  # a bind mount: read-only, or data is on the host
            assert mode == ["ro"], f"{name}: {volume} is neither a named volume nor read-only"


def test_tutorbot_waits_for_a_healthy_database_and_redis():
    for name in OURS:
        env = environment(name)
        for url in (env.get("DATABASE_URL"), env.get("REDIS_URL")):
            host = urlsplit(url).hostname if url else None
            if host in SERVICES:
                waits = (SERVICES[name].get("depends_on") or {}).get(host)
                assert waits == HEALTHY, f"{name} does not wait for {host} to be healthy"


def test_the_gpu_worker_reserves_nvidia_gpus_with_cuda_torch():
    worker = SERVICES["worker"]
    assert argv("worker") == ["tutorbot", "worker"] and "profiles" not in worker
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] and
               ("count" in d or "device_ids" in d) for d in devices), devices
    assert "/cu" in worker["build"]["args"]["TORCH_INDEX"], "the worker's torch has no CUDA"
    if any(d.get("count") == "all" or len(d.get("device_ids", ())) > 1 for d in devices):
        assert environment("worker").get("WORKER_GPU"), "several GPUs and none chosen"


def test_the_cpu_worker_needs_no_gpu_and_waits_for_its_profile():
    worker = SERVICES["worker-cpu"]
    assert argv("worker-cpu") == ["tutorbot", "worker"]
    assert worker.get("profiles") == ["cpu"] and "deploy" not in worker
    assert "args" not in worker["build"], "CPU wheels are the Dockerfile's default"
    assert not environment("worker-cpu").get("WORKER_GPU")


@pytest.mark.parametrize("name", OURS)
def test_containers_that_run_experiments_have_torch(name):
    if runs_experiments(name):
        assert any("[worker]" in run for run in stage_of(name)["runs"]), (
            f"{name} runs experiments on an image without the worker extra (torch)")


def test_solo_is_one_container_with_sqlite_and_local_runs():
    solo = SERVICES["solo"]
    env = environment("solo")
    assert solo.get("profiles") == ["solo"] and "depends_on" not in solo
    assert not env.get("DATABASE_URL") and not env.get("REDIS_URL")
    assert env.get("EXPLAIN_BACKEND") == "local"


def test_the_readme_names_services_and_commands_that_exist():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Docker\n"):readme.index("## Benchmarks\n")]
    section = " ".join(section.split())  # commands wrapped over lines, or in a code block
    ups = re.findall(r"docker compose up -d ([a-z][a-z0-9 -]*?) ?[`#]", section)
    runs = re.findall(r"docker compose run --rm ([a-z0-9-]+) ([a-z ]+?) ?[`#]", section)
    assert ups and runs
    for named in ups:
        assert set(named.split()) <= set(SERVICES), named
    for service, command in runs:
        assert service in SERVICES and command.split()[0] == "tutorbot", (service, command)
        build_parser().parse_args(command.split()[1:])
