"""Spoken card numbers, security codes and expiry dates in the forms speech recognisers write
them (issue 10 §2), on text: cheap, so many forms. The audio tests are test_card_speech.py."""

from __future__ import annotations

import pytest

from octopushx.intelligence.redaction import redact, redact_text, spoken_digits
from octopushx.intelligence.results import Utterance, Word

LOOP = ", ".join(["5"] * 40)


@pytest.mark.parametrize(
    "said",
    [
        # one by one, separated by commas, spaces, dashes or "and", grouped or not
        "Yes, it is 4, 5, 5, 6, 7, 3, 7, 5, 8, 6, 8, 9, 9, 8, 5, 5.",
        "Yes, it is 4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 5",
        "It is 4-5-5-6-7-3-7-5-8-6-8-9-9-8-5-5.",
        "It is 4 - 5 - 5 - 6 - 7 - 3 - 7 - 5 - 8 - 6 - 8 - 9 - 9 - 8 - 5 - 5.",
        "It is 4 -5 -5 -6, 7 -3 -7 -5, 8 -6 -8 -9 -9 -8 -5 -5.",
        "It is 4556 7375 8689 9855.",
        "It is 4556, 7375, 8689, 9855.",
        "It is 4556 and 7375 and 8689 and 9855.",
        "It is 45, 56, 73, 75, 86, 89, 98, 55.",
        "four five five six, seven three seven five, eight six eight nine, nine eight five five",
        "four five five six and seven three seven five and eight six eight nine and nine eight five five",
        "forty five fifty six seventy three seventy five eighty six eighty nine ninety eight fifty five",
        "4556 for 7375 8689 9855",
        "four five double five seven three seven five eight six eight nine nine eight double five",
        "It is 4 5 5 6 … 7 3 7 5 … 8 6 8 9 … 9 8 5 5",
        # the recogniser's repetition loop after the number ("…, 5, 5, 5, …")
        f"Yes, it is 4, 5, 5, 6, 7, 3, 7, 5, 8, 6, 8, 9, {LOOP}",
        f"4556 7375 8689 9855 {LOOP}",
    ],
)
def test_a_spoken_card_number_leaves_no_digit(said):
    redacted = redact_text("Can I take the long number on the card please? " + said)
    assert "[CARD]" in redacted
    assert not any(c.isdigit() for c in redacted), redacted
    assert not any(w in redacted.lower().split() for w in ("five", "six", "eight", "nine", "seven")), redacted


@pytest.mark.parametrize(
    "said",
    [
        "it is 4 5 5 6 7 3 7 5 8 6 8 9 9 8 5",  # a digit lost: no Luhn match, but after card talk
        "it is 4 5 5 6 7 3 7 5 8 6 8 9 9 8 5 4",
        "4 5 5 6 7 3 7 5 8 6 8 9 9 8",  # fourteen digits, more than a phone number has
    ],
)
def test_a_misheard_card_number_is_still_a_card(said):
    redacted = redact_text("The card number, " + said)
    assert "[CARD]" in redacted and not any(c.isdigit() for c in redacted), redacted


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("The code is 41 too.", "The code is [CVV]."),
        ("The code is 4 -1 … -2.", "The code is [CVV]."),
        ("The code is 4 -1 … -2. Thank you.", "The code is [CVV]. Thank you."),
        ("the code is for one two", "the code is [CVV]"),
        ("The code is to 1 for.", "The code is [CVV]."),
        ("The security code is four one two.", "The security code is [CVV]."),
        ("Security code: 4, 1, 2.", "Security code: [CVV]."),
        ("The CVV is 412.", "The CVV is [CVV]."),
        ("The CVC is oh four one.", "The CVC is [CVV]."),
        ("The three digits on the back are 4, 1 and 2.", "The three digits on the back are [CVV]."),
        ("The security code on the back of the card is 4 1 2.", "The security code on the back of the card is [CVV]."),
        ("The code is 4. 1. 2.", "The code is [CVV]."),
        ("The code is 41, 2 I think.", "The code is [CVV] I think."),
    ],
)
def test_digits_after_a_security_code_cue_are_a_cvv(said, expected):
    assert redact_text(said) == expected


def _utterances(*lines: tuple[str, str]) -> list[Utterance]:
    result, clock = [], 0.0
    for speaker, text in lines:
        words = []
        for piece in text.split():
            words.append(Word(piece, round(clock, 2), round(clock + 0.3, 2)))
            clock += 0.35
        result.append(Utterance(speaker, words[0].start, words[-1].end, text, words=words))
        clock += 0.5
    return result


def test_an_answer_to_the_security_code_question_is_a_cvv():
    redacted, found = redact(_utterances(("agent", "What is the security code?"), ("customer", "41 too.")))
    assert [u.text for u in redacted] == ["What is the security code?", "[CVV]."]
    assert [s.kind for s in found.spans] == ["CVV"]


def test_a_number_cut_in_two_by_the_speaker_labels_of_a_mono_call_is_found():
    lines = (
        ("agent", "Can you read me the long number on the card?"),
        ("customer", "Yes it is 4, 5, 5, 6, 7, 3, 7,"),
        ("agent", "5, 8, 6, 8, 9, 9, 8, 5, 5. Thank you and the security code?"),
        ("customer", "The code is 4, 1,"),
        ("agent", "2, and the expiry date?"),
        ("customer", "Oh nine twenty seven."),
    )
    redacted, found = redact(_utterances(*lines))
    text = " ".join(u.text for u in redacted)
    assert not any(c.isdigit() for c in text), text
    assert "nine" not in text and "twenty" not in text, text
    assert sorted(s.kind for s in found.spans) == ["CARD", "CVV", "EXPIRY"]
    card = next(s for s in found.spans if s.kind == "CARD")
    digits = [w for u in _utterances(*lines) for w in u.words if w.text.strip(",.").isdigit()]
    assert card.start <= digits[0].start and card.end >= digits[15].end


def test_a_redacted_span_reaches_back_into_the_pause_before():
    # Whisper times the first word after a pause late: the span starts up to 0.75 s earlier.
    utterances = [
        Utterance(
            "agent",
            0.0,
            1.0,
            "The card number?",
            words=[Word("The", 0.0, 0.2), Word("card", 0.2, 0.5), Word("number?", 0.5, 1.0)],
        ),
        Utterance(
            "customer",
            1.9,
            4.0,
            "4556 7375 8689 9855",
            words=[Word("4556", 1.9, 2.4), Word("7375", 2.5, 3.0), Word("8689", 3.1, 3.5), Word("9855", 3.6, 4.0)],
        ),
        Utterance("agent", 7.0, 7.5, "Thanks.", words=[Word("Thanks.", 7.0, 7.5)]),
    ]
    _redacted, found = redact(utterances)
    assert [(s.kind, s.start, s.end) for s in found.spans] == [("CARD", 1.15, 4.0)]


@pytest.mark.parametrize(
    "said",
    [
        "That will be six hundred pounds.",
        "That will be 600 pounds on the card.",
        "Your balance is £82.",
        "The fee is 82 pounds and the code for the card is on its way.",
        "The security code arrives in two to three days.",
        "The code for the card is on the letter.",
        "The promo code is SAVE20.",
        "The order number is 4916 3827 5061 4727.",  # 16 digits named as something else
        "The card expires next year, we spoke for 20 minutes.",
    ],
)
def test_amounts_and_ordinary_numbers_are_not_card_data(said):
    assert redact_text(said) == said


def test_a_postcode_is_its_own_tag_not_a_code():
    # "sort code" and "post code" are not security codes; a postcode is personal data (issue 16)
    said = "The sort code is on the statement and the post code is SW1 4AB."
    assert redact_text(said) == "The sort code is on the statement and the post code is [POSTCODE]."


def test_an_amount_after_the_card_stays_while_the_card_goes():
    said = "The card number is 4556 7375 8689 9855 and the payment of 600 pounds has gone through."
    assert redact_text(said) == "The card number is [CARD] and the payment of 600 pounds has gone through."


def test_a_spoken_amount_after_the_security_code_is_not_a_code():
    # issue 16: "the payment of six hundred pounds" was redacted as a card security code
    redacted, found = redact(
        _utterances(
            ("agent", "What's the security code?"),
            ("customer", "412."),
            ("agent", "Thanks. So the payment of six hundred pounds will be taken today, that's 600."),
        )
    )
    assert [u.text for u in redacted][1:] == [
        "[CVV].",
        "Thanks. So the payment of six hundred pounds will be taken today, that's 600.",
    ]
    assert [s.kind for s in found.spans] == ["CVV"]


@pytest.mark.parametrize("said", ["04/27.", "oh four twenty seven.", "April 2027.", "0 4 2 0 2 7."])
def test_an_expiry_is_tagged_as_an_expiry_not_a_phone(said):
    # issue 16: an expiry date was tagged as a phone number
    redacted, found = redact(
        _utterances(
            ("agent", "Is 07946 123456 still your mobile?"),
            ("customer", "Yes. The card is 4556 7375 8689 9855."),
            ("agent", "And when does it expire?"),
            ("customer", said),
        )
    )
    assert redacted[3].text == "[EXPIRY]."
    assert [s.kind for s in found.spans] == ["PHONE", "CARD", "EXPIRY"]


@pytest.mark.parametrize(
    "said",
    ["You've been with us since 2019.", "You'll get 500 megabits.", "The engineer comes between 8 and 12."],
)
def test_numbers_after_a_card_that_nobody_asked_for_stay(said):
    redacted, _ = redact(_utterances(("customer", "The card is 4556 7375 8689 9855."), ("agent", f"Thanks. {said}")))
    assert redacted[1].text == f"Thanks. {said}"


def test_twenty_twenty_eight_is_a_year():
    assert spoken_digits("march twenty twenty eight") == "march 2 0 2 8"
