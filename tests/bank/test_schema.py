"""The JSON Schema for editors: valid JSON, in step with the loader's vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from bot.bank import DIFFICULTIES, KINDS
from bot.bank.schema import pack_schema
from tests.bank.builders import VALID

SHIPPED = Path(__file__).resolve().parents[2] / "questions" / "pretrained-models" / "pack.yaml"


def problem_schema() -> dict:
    return pack_schema()["properties"]["problems"]["items"]


def test_schema_round_trips_through_json():
    schema = pack_schema()
    assert json.loads(json.dumps(schema)) == schema


def test_schema_lists_every_kind():
    assert problem_schema()["properties"]["kind"]["enum"] == list(KINDS)


def test_schema_lists_every_difficulty():
    assert problem_schema()["properties"]["difficulty"]["enum"] == list(DIFFICULTIES)


def test_schema_requires_the_loaders_required_keys():
    assert pack_schema()["required"] == ["id", "title", "badge", "problems"]
    assert "answer" in problem_schema()["required"]


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(pack_schema())


def test_shipped_pack_validates_against_the_schema():
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(pack_schema()).validate(data)


def test_schema_rejects_an_unknown_kind():
    data = yaml.safe_load(VALID.replace("kind: conceptual", "kind: trivia"))
    errors = list(jsonschema.Draft202012Validator(pack_schema()).iter_errors(data))
    assert [list(e.path) for e in errors] == [["problems", 0, "kind"]]
