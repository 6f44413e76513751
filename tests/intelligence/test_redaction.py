"""Redaction of cards, bank details, NI numbers, emails and phones in text and in the audio."""

from __future__ import annotations

import numpy as np
import pytest

from octopushx.intelligence import audio, redact_audio
from octopushx.intelligence.redaction import luhn, redact, redact_text, spoken_digits
from octopushx.intelligence.results import Utterance

from .conftest import make_speech, turn_with

CARD = make_speech.CARD


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Yes, it is 4916 3827 5061 4726.", "Yes, it is [CARD]."),
        ("Yes, it is 4916, 3827, 5061, 4726", "Yes, it is [CARD]"),
        ("It is 4-9-1-6 3-8-2-7 5-0-6-1 4-7-2-6.", "It is [CARD]."),
        ("It is four nine one six three eight two seven five zero six one four seven two six.", "It is [CARD]."),
        ("it's 4 916 -3827 -5061 -4726", "it's [CARD]"),
        (
            "It expires oh eight twenty eight and the security code is four one seven.",
            "It expires [EXPIRY] and the security code is [CVV].",
        ),
        (
            "The sort code is 20-45-77 and the account number is 55123984.",
            "The sort code is [SORT_CODE] and the account number is [ACCOUNT].",
        ),
        (
            "The short code is 2 0 4 5 7 7 and the count number is 5 5 1 2 3 9 8 4",
            "The short code is [SORT_CODE] and the count number is [ACCOUNT]",
        ),
        (
            "The card code is 204577 and the account number is 55123984.",
            "The card code is [SORT_CODE] and the account number is [ACCOUNT].",
        ),
        (
            "The expiry date 28 and the security code is 4, 1, 7.",
            "The expiry date [EXPIRY] and the security code is [CVV].",
        ),
        ("My IBAN is GB82WEST12345698765432.", "My IBAN is [ACCOUNT]."),
        ("Please use Mary not Jones at Northmail not co .uk.", "Please use [EMAIL]."),
        ("It is QQ 12 34 56 C.", "It is [NI]."),
        ("It is Q Q one two three four five six C.", "It is [NI]."),
        ("It is QQ1 to 3456C.", "It is [NI]."),
        ("My email is john.smith@example.com thanks", "My email is [EMAIL] thanks"),
        ("It is john dot smith at example dot com.", "It is [EMAIL]."),
        ("My email is john smith at example.com", "My email is [EMAIL]"),
        ("My email is johnsmith .example .com.", "My email is [EMAIL]."),
        ("Call me on 07946 123456 please.", "Call me on [PHONE] please."),
        ("My number is plus four four seven nine four six one two three four five six.", "My number is [PHONE]."),
        ("My phone number is zero seven seven zero zero nine zero zero one two three.", "My phone number is [PHONE]."),
    ],
)
def test_sensitive_numbers_and_addresses_are_tagged(said, expected):
    assert redact_text(said) == expected


@pytest.mark.parametrize(
    "said",
    [
        "I have been a customer for 12 years and called 3 times in 2024.",
        "I can offer you a credit of £20 on your next bill.",
        "Meet me at the station at 5.",
        "I am not at home today.",
        "I went to the shop and bought bread for two days.",
        "The order number is 4916 3827 5061 4727.",  # fails the Luhn check, no card context
    ],
)
def test_ordinary_numbers_and_words_are_left_alone(said):
    assert redact_text(said) == said


def test_luhn():
    assert luhn(CARD) and luhn("4539148803436467")
    assert not luhn("4916382750614727")


def test_a_card_read_across_two_segments_is_one_span():
    result, found = redact(
        [
            Utterance("customer", 0.0, 2.0, "It is 4916 3827"),
            Utterance("agent", 2.1, 2.4, "Mm-hm."),
            Utterance("customer", 2.5, 4.0, "5061 4726."),
        ]
    )
    assert [u.text for u in result] == ["It is [CARD]", "Mm-hm.", "[CARD]."]
    assert [(s.kind, s.speaker) for s in found.spans] == [("CARD", "customer")]
    assert found.spans[0].start < 2.0 and found.spans[0].end == 4.0


def test_cvv_after_a_card_is_tagged_without_being_named():
    result, _ = redact(
        [
            Utterance("customer", 0.0, 4.0, "It is 4916 3827 5061 4726."),
            Utterance("agent", 5.0, 6.0, "And the three digits on the back?"),
            Utterance("customer", 7.0, 8.0, "417."),
        ]
    )
    assert result[2].text == "[CVV]."


def test_spoken_digits_normalises_numbers_for_scoring():
    assert spoken_digits("it is four nine one six twenty eight") == "it is 4 9 1 6 2 8"


def test_card_number_is_redacted_in_the_transcript(stereo_analysis):
    text = stereo_analysis.transcript
    assert "[CARD]" in text
    digits = "".join(ch for ch in text if ch.isdigit())
    assert "4916" not in digits and "4726" not in digits
    card_spans = [s for s in stereo_analysis.redaction.spans if s.kind == "CARD"]
    assert len(card_spans) == 1 and card_spans[0].speaker == "customer"


def test_original_transcript_is_kept_only_when_asked(stereo_analysis, mono_analysis):
    original = " ".join(u.text for u in stereo_analysis.original_utterances)
    assert "4916" in original.replace(" ", "").replace(",", "")
    assert mono_analysis.original_utterances is None


def test_insights_never_show_the_card(stereo_analysis):
    insights = stereo_analysis.to_dict()["insights"]
    assert "4916" not in str(insights).replace(" ", "")


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def test_card_is_silenced_in_the_redacted_recording(stereo_analysis, speech, tmp_path):
    target = tmp_path / "redacted.wav"
    silenced = redact_audio(speech["files"]["stereo"]["wav"], target, stereo_analysis.redaction)
    assert silenced > 2.0
    before = audio.decode(speech["files"]["stereo"]["wav"]).samples
    after = audio.decode(target).samples
    assert after.shape == before.shape
    card = next(s for s in stereo_analysis.redaction.spans if s.kind == "CARD")
    inside = slice(int(card.start * 16000), int(card.end * 16000))
    assert _rms(before[1, inside]) > 0.01
    assert _rms(after[:, inside]) < 1e-4
    # the rest of the card turn is where the script put it, and the greeting is untouched
    turn = turn_with(speech, "CARD")
    assert card.start >= turn["start"] - 0.3 and card.end <= turn["end"] + 0.3
    greeting = slice(int(speech["turns"][0]["start"] * 16000), int(speech["turns"][0]["end"] * 16000))
    assert np.allclose(before[:, greeting], after[:, greeting], atol=2e-4)


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".ogg", ".m4a"])
def test_redacted_copy_can_be_written_in_other_formats(stereo_analysis, speech, tmp_path, suffix):
    target = tmp_path / f"redacted{suffix}"
    redact_audio(speech["files"]["stereo"]["flac"], target, stereo_analysis.redaction)
    decoded = audio.decode(target)
    assert decoded.channels == 2 and abs(decoded.duration - speech["duration"]) < 0.2
    card = next(s for s in stereo_analysis.redaction.spans if s.kind == "CARD")
    inside = slice(int((card.start + 0.1) * 16000), int((card.end - 0.1) * 16000))
    assert _rms(decoded.samples[:, inside]) < 2e-3


def test_unsupported_output_format_is_refused(speech, tmp_path):
    with pytest.raises(ValueError, match="Cannot write"):
        redact_audio(speech["files"]["mono"]["wav"], tmp_path / "x.xyz", [(1.0, 2.0)], output_format=".xyz")


def test_file_objects_in_and_out(stereo_analysis, speech):
    import io

    source = io.BytesIO(open(speech["files"]["stereo"]["wav"], "rb").read())
    source.seek(100)  # already looked at by the caller
    target = io.BytesIO()
    redact_audio(source, target, stereo_analysis.redaction, output_format=".flac")
    target.seek(0)
    decoded = audio.decode(target)
    assert decoded.channels == 2 and abs(decoded.duration - speech["duration"]) < 0.1
