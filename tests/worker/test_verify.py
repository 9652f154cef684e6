"""`verify` compares each experiment's derived answer with the key, failures included."""

from __future__ import annotations

from bot.worker.verify import VerifyOutcome, verify

ANSWERS_B = """
def run(ctx):
    return {"answer": "B", "metrics": {}}
"""


async def test_verify_confirms_a_right_key_and_flags_a_wrong_one(write_script):
    script = write_script(ANSWERS_B)
    seen: list[VerifyOutcome] = []
    outcomes = await verify([("right", script, {}, "B"), ("wrong", script, {}, "C")],
                            on_result=seen.append)
    assert [(o.problem_id, o.derived, o.ok) for o in outcomes] == [
        ("right", "B", True), ("wrong", "B", False)]
    assert outcomes[1].expected == "C" and outcomes[1].error is None
    assert seen == outcomes


async def test_verify_reports_a_crash_as_a_failed_outcome(write_script):
    script = write_script("def run(ctx):\n    raise RuntimeError('boom')\n", name="crash.py")
    [outcome] = await verify([("crashing", script, {}, "A")])
    assert not outcome.ok and outcome.derived is None
    assert "boom" in (outcome.error or "")
