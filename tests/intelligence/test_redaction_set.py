"""The redactor on its labelled set (issue 16): no sensitive item left readable, no amount (or
date, year, quantity, speed, order number…) redacted, and a precision floor over the whole set."""

from __future__ import annotations

import pytest

from tests.intelligence.data.redaction_set import CASES
from tests.intelligence.redaction_eval import Scores, evaluate, parse, run

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.95  # the right tag on the whole item; any tag at all is the no-leak check


def _scores(name: str) -> Scores:
    scores = Scores()
    scores.add(run(parse(name, CASES[name])))
    return scores


@pytest.mark.parametrize("name", sorted(CASES))
def test_nothing_sensitive_is_left_readable(name):
    scores = _scores(name)
    assert scores.leaks == 0, scores.problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_amounts_and_ordinary_numbers_stay_readable(name):
    scores = _scores(name)
    assert sum(scores.false.values()) == 0, scores.problems
    wrong = [p for p in scores.problems if p.startswith("FALSE")]
    assert wrong == []


def test_the_set_covers_every_tag_and_the_hard_negatives():
    scores = evaluate(CASES)
    assert all(scores.items[tag] >= 3 for tag in ("CARD", "CVV", "EXPIRY", "ACCOUNT", "SORT_CODE", "NI", "EMAIL"))
    assert all(scores.items[tag] >= 3 for tag in ("PHONE", "POSTCODE"))
    assert scores.kept["AMOUNT"] >= 25
    assert {"DATE", "TIME", "ORDER", "QUANTITY", "YEAR", "PERCENT", "SPEED", "MODEL"} <= set(scores.kept)


def test_precision_and_recall_floors_over_the_set():
    scores = evaluate(CASES)
    assert scores.precision >= PRECISION_FLOOR, "\n".join(scores.table() + scores.problems)
    assert scores.recall >= RECALL_FLOOR, "\n".join(scores.table() + scores.problems)
    assert scores.false["AMOUNT"] == 0


def test_the_scorer_counts_a_leak_and_a_false_redaction():
    # the scorer itself: a card left readable is a leak, a redacted amount a false redaction
    scores = Scores()
    scores.add(run(parse("leak", ["C: Hello, it is {CARD: twelve}."])))
    assert scores.items["CARD"] == 1 and scores.leaks == 1
    case = parse("amount", ["A: The security code is {~AMOUNT: 4 1 2} and {CVV: 5 5 1}."])
    outcome = run(case)
    scores = Scores()
    scores.add(outcome)
    assert scores.false["AMOUNT"] == 1 and scores.precision < 1.0
