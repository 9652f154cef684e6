"""The README's Docker flow keeps its data: copy .env.example to .env, `docker compose up -d`.

No Docker needed: each compose service's environment is computed the way compose builds it
(the image's ENV, then env_file, then environment, each overriding the one before), with
.env.example standing in for the .env a README reader copies, and the paths it names are
checked against the Dockerfile's WORKDIR, COPY lines and the service's volume mounts.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bot.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text("utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
# tutorbot's services: those built from this Dockerfile (postgres and redis are official images).
SERVICES = sorted(name for name, service in COMPOSE["services"].items() if "build" in service)
DEFAULTS = {s.name: s.default for s in SETTINGS}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: PurePosixPath  # absolute, resolved against the WORKDIR of its line
    into_folder: bool  # `COPY a b ./` puts a and b inside the destination


@dataclass(frozen=True)
class Image:
    workdir: PurePosixPath
    env: dict[str, str]
    copies: tuple[Copy, ...]
    user: str
    runs: tuple[str, ...]
    order: tuple[str, ...]  # "COPY <sources>" and "RUN <command>" in build order


def parse_image() -> Image:
    workdir, env, copies, user = PurePosixPath("/"), {}, [], "root"
    runs, order = [], []
    for instruction, rest in dockerfile_instructions():
        if instruction == "WORKDIR":
            workdir = workdir / rest
        elif instruction == "ENV":
            words = shlex.split(rest)
            if "=" not in words[0]:  # the legacy `ENV NAME value` form
                env[words[0]] = " ".join(words[1:])
            else:
                env.update(word.split("=", 1) for word in words)
        elif instruction == "COPY":
            *sources, destination = [w for w in shlex.split(rest) if not w.startswith("--")]
            copies.append(Copy(tuple(sources), PurePosixPath(
                posixpath.normpath(workdir / destination)),
                destination.endswith("/") or len(sources) > 1))
            order.append("COPY " + " ".join(sources))
        elif instruction == "USER":
            user = rest.split(":")[0]
        elif instruction == "RUN":
            runs.append(rest)
            order.append("RUN " + rest)
    return Image(workdir, env, tuple(copies), user, tuple(runs), tuple(order))


IMAGE = parse_image()


def dotenv(text: str) -> dict[str, str]:
    """What compose reads from an env_file: NAME=value lines; # comments; optional quotes."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        values[name.strip()] = value
    return values


def env_file_values(service: dict[str, Any]) -> dict[str, str]:
    entries = service.get("env_file") or []
    values: dict[str, str] = {}
    for entry in [entries] if isinstance(entries, str | dict) else entries:
        path = entry if isinstance(entry, str) else entry["path"]
        # The README reader's .env is a copy of .env.example.
        assert path in (".env", "./.env"), f"env_file {path} is not the README's .env"
        values.update(dotenv((ROOT / ".env.example").read_text("utf-8")))
    return values


def environment_values(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def effective_env(service: dict[str, Any]) -> dict[str, str]:
    return IMAGE.env | env_file_values(service) | environment_values(service)


def setting_in_container(service_name: str, name: str) -> str:
    """The value tutorbot sees; empty or unset means the setting's default."""
    return effective_env(COMPOSE["services"][service_name]).get(name, "").strip() or \
        DEFAULTS[name]


def in_container(value: str) -> PurePosixPath:
    return PurePosixPath(posixpath.normpath(IMAGE.workdir / value))


@dataclass(frozen=True)
class Mount:
    source: str
    target: PurePosixPath
    read_only: bool


def mounts(service: dict[str, Any]) -> list[Mount]:
    found = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found.append(Mount(source, PurePosixPath(target), "ro" in mode))
        else:
            found.append(Mount(volume.get("source", ""), PurePosixPath(volume["target"]),
                               bool(volume.get("read_only"))))
    return found


def writable_volume_holding(service_name: str, path: PurePosixPath) -> Mount | None:
    declared = COMPOSE.get("volumes") or {}
    for mount in mounts(COMPOSE["services"][service_name]):
        if mount.source in declared and not mount.read_only and path.is_relative_to(
                mount.target):
            return mount
    return None


def image_path_source(path: PurePosixPath) -> Path | None:
    """The repository file or folder a COPY put at path, or None if no COPY did."""
    for copy in IMAGE.copies:
        for source in copy.sources:
            placed = copy.destination / Path(source).name if copy.into_folder else \
                copy.destination
            if path.is_relative_to(placed):
                return ROOT / source / path.relative_to(placed)
    return None


def writes_there(service_name: str, name: str) -> bool:
    """Whether tutorbot in this service writes where the path setting points."""
    if name == "DATABASE_PATH":  # SQLite, unless the store is in PostgreSQL
        return not setting_in_container(service_name, "DATABASE_URL")
    # WORKER_CACHE_DIR: wherever experiments run, in a worker or in the bot's own children
    command = COMPOSE["services"][service_name].get("command") or []
    return "worker" in command or setting_in_container(service_name, "EXPLAIN_BACKEND") == "local"


KEPT = [(service, name) for service in SERVICES for name in ("DATABASE_PATH", "WORKER_CACHE_DIR")
        if writes_there(service, name)]


@pytest.mark.parametrize(("service", "name"), KEPT)
def test_data_is_kept_on_a_declared_volume(service, name):
    path = in_container(setting_in_container(service, name))
    mount = writable_volume_holding(service, path)
    assert mount is not None, (
        f"{service}: {name} is {path} in the container, on no writable named volume; "
        f"its data is lost with the container")


@pytest.mark.parametrize(("service", "name"), KEPT)
def test_the_volume_belongs_to_the_user_the_bot_runs_as(service, name):
    # A named volume starts as a copy of the image's folder, owner included.
    path = in_container(setting_in_container(service, name))
    mount = writable_volume_holding(service, path)
    assert mount is not None
    owned = re.compile(rf"chown (-R )?{IMAGE.user}(:\S+)? .*{re.escape(str(mount.target))}\b")
    assert any(owned.search(run) for run in IMAGE.runs), (IMAGE.user, mount.target)


@pytest.mark.parametrize("service", SERVICES)
def test_question_packs_are_in_the_image(service):
    value = effective_env(COMPOSE["services"][service]).get("QUESTIONS_PATH", "").strip()
    if value:
        source = image_path_source(in_container(value))
        assert source is not None, f"{service}: QUESTIONS_PATH {value} was never copied in"
        assert sorted(source.glob("*/pack.yaml")), f"{service}: no packs under {source}"
    else:  # the packs installed with tutorbot: copied in before `pip install .`
        install = next(i for i, step in enumerate(IMAGE.order)
                       if step.startswith("RUN pip install"))
        copied = {s for step in IMAGE.order[:install] if step.startswith("COPY ")
                  for s in step.split()[1:]}
        assert "questions" in copied, "questions/ is copied in after the package is installed"


def test_packs_are_not_left_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert not {"questions", "questions/", "bot", "cogs"} & set(ignored)


@pytest.mark.parametrize("service", SERVICES)
def test_compose_names_only_known_settings(service):
    names = set(environment_values(COMPOSE["services"][service]))
    assert names <= set(DEFAULTS), names - set(DEFAULTS)


def test_the_env_example_names_only_known_settings_even_in_comments():
    text = (ROOT / ".env.example").read_text("utf-8")
    names = set(re.findall(r"^[#\s]*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    # Besides settings, the variables docker-compose.yml itself reads from .env.
    compose_reads = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_TEXT))
    assert names and names <= set(DEFAULTS) | compose_reads, names - set(DEFAULTS) - compose_reads
