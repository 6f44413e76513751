"""Speech-recogniser repetition loops are cut before the transcript is analysed."""

from __future__ import annotations

from octopushx.intelligence import asr, repetition
from octopushx.intelligence.results import Word


def _words(text: str, step: float = 0.3) -> list[Word]:
    return [Word(piece, round(i * step, 2), round(i * step + 0.25, 2)) for i, piece in enumerate(text.split())]


def test_a_phrase_looped_many_times_keeps_one_copy_covering_the_loop():
    words = _words("thank you " * 8 + "goodbye")
    kept = repetition.cut_words(words)
    assert [w.text for w in kept] == ["thank", "you", "goodbye"]
    assert kept[1].end == words[15].end  # the loop's time still belongs to the speaker


def test_a_word_looped_keeps_one_copy():
    assert repetition.cut_text("no no no no no no no we are done") == "no we are done"


def test_words_said_two_or_three_times_stay():
    for said in ("no no no", "thank you thank you thank you", "very very good", "bye bye"):
        assert repetition.cut_text(said) == said


def test_a_digit_loop_after_a_card_is_cut_but_keeps_enough_digits_to_be_redacted():
    said = "it is 4, 5, 5, 6, 7, 3, 7, 5, 8, 6, 8, 9, 9, 8, " + ", ".join(["5"] * 60)
    kept = repetition.cut_text(said).split()
    assert 20 <= len(kept) <= 40
    assert kept[:16] == said.split()[:16]


def test_a_card_that_repeats_a_digit_is_not_cut():
    for said in (
        "4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1",
        "4111 1111 1111 1111",
        "four one one one one one one one",
    ):
        assert repetition.cut_text(said) == said


def test_a_loop_running_over_several_segments_is_cut_across_them():
    segments = [
        asr.Segment(0.0, 1.0, "The code is 4, 1, 2.", words=_words("The code is 4, 1, 2.")),
        *[
            asr.Segment(
                2.0 + i, 3.0 + i, "Thank you.", words=[Word("Thank", 2.0 + i, 2.4 + i), Word("you.", 2.5 + i, 2.9 + i)]
            )
            for i in range(6)
        ],
        asr.Segment(9.0, 10.0, "Goodbye.", words=[Word("Goodbye.", 9.0, 9.5)]),
    ]
    cut = asr.cut_repetitions(segments)
    assert [s.text for s in cut] == ["The code is 4, 1, 2.", "Thank you.", "Goodbye."]
    assert cut[1].end == 7.9 and cut[1].words[-1].end == 7.9


def test_segments_without_word_times_are_cut_on_their_text():
    segments = [asr.Segment(0.0, 5.0, "okay " * 10 + "then")]
    assert [s.text for s in asr.cut_repetitions(segments)] == ["okay then"]
