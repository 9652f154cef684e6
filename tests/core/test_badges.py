from bot.core.badges import STANDARD_BADGES, BadgeCatalogue, BadgeContext, pack_badge

ALL_KINDS = frozenset({"conceptual", "predict-output", "model-choice", "hyperparameter",
                       "metrics"})
MASTER = pack_badge("pretrained-models", "Pre-trained Model Master", "🎖️", "All five.")
CATALOGUE = BadgeCatalogue([*STANDARD_BADGES, MASTER])


def ctx(**changes) -> BadgeContext:
    base = dict(streak=1, correct_total=1, first_try_total=1, elapsed_percent=50.0,
                kinds_correct=frozenset({"conceptual"}),
                solved_in_pack={"pretrained-models": 1}, pack_sizes={"pretrained-models": 5},
                all_kinds=ALL_KINDS)
    return BadgeContext(**(base | changes))


def ids(badges) -> set[str]:
    return {b.id for b in badges}


def test_the_first_correct_answer_earns_first_step():
    assert ids(CATALOGUE.newly_earned(ctx(), set())) == {"first-correct"}


def test_pack_mastery_needs_every_problem_of_the_pack():
    assert "pack:pretrained-models" not in ids(CATALOGUE.newly_earned(
        ctx(solved_in_pack={"pretrained-models": 4}), set()))
    assert "pack:pretrained-models" in ids(CATALOGUE.newly_earned(
        ctx(solved_in_pack={"pretrained-models": 5}), set()))


def test_streak_tiers_unlock_in_order():
    earned = ids(CATALOGUE.newly_earned(ctx(streak=5), set()))
    assert {"streak-3", "streak-5"} <= earned and "streak-10" not in earned


def test_a_badge_already_held_is_not_awarded_again():
    assert CATALOGUE.newly_earned(ctx(), {"first-correct"}) == []


def test_quick_draw_needs_the_first_tenth_of_the_time():
    assert "quick-draw" in ids(CATALOGUE.newly_earned(ctx(elapsed_percent=9.9), set()))
    assert "quick-draw" not in ids(CATALOGUE.newly_earned(ctx(elapsed_percent=10.1), set()))


def test_well_rounded_needs_a_correct_answer_of_every_kind():
    assert "well-rounded" in ids(CATALOGUE.newly_earned(ctx(kinds_correct=ALL_KINDS), set()))
    assert "well-rounded" not in ids(CATALOGUE.newly_earned(
        ctx(kinds_correct=ALL_KINDS - {"metrics"}), set()))

