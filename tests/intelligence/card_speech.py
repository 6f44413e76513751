"""Spoken card payments for the no-card-data tests (issue 10 §2), shared by the CLI tests
(tests/intelligence) and the processing-job tests (tests/calls).

Each sensitive value is a turn of its own, so the script's timeline says exactly where it was
spoken: the redacted audio must be silent there, whatever the recogniser made of the words.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np

from tests.intelligence.conftest import make_speech

CARD_CALLS: dict[str, dict] = {
    # British agent and American customer at the usual speed; digits read in groups of four.
    "grouped": {
        "voices": None,
        "script": [
            {"speaker": "agent", "text": "Can you read me the long number on the card?"},
            {
                "speaker": "customer",
                "text": "Four five five six, seven three seven five, eight six eight nine, nine eight five five.",
                "sensitive": [{"kind": "CARD", "value": "4556737586899855"}],
            },
            {"speaker": "agent", "text": "And the security code?"},
            {"speaker": "customer", "text": "The code is"},
            {"speaker": "customer", "text": "four one two.", "sensitive": [{"kind": "CVV", "value": "412"}]},
            {"speaker": "agent", "text": "Thank you, six hundred pounds is paid."},
        ],
    },
    # Other voices, faster; digits joined by "and", the code asked for as "the three digits".
    "fast": {
        "voices": {"agent": ("en-us+m3", 50, 170), "customer": ("en-gb-scotland", 45, 175)},
        "script": [
            {"speaker": "agent", "text": "What is the card number?"},
            {
                "speaker": "customer",
                "text": "Five four two five and two three eight four and three zero one zero and nine six zero five.",
                "sensitive": [{"kind": "CARD", "value": "5425238430109605"}],
            },
            {"speaker": "agent", "text": "And the three digits on the back?"},
            {"speaker": "customer", "text": "Seven, three, nine.", "sensitive": [{"kind": "CVV", "value": "739"}]},
            {"speaker": "customer", "text": "And it expires"},
            {
                "speaker": "customer",
                "text": "oh eight twenty eight.",
                "sensitive": [{"kind": "EXPIRY", "value": "0828"}],
            },
            {"speaker": "agent", "text": "Thank you, that is eighty two pounds."},
        ],
    },
}

# What may stay: the amounts said with a currency word, and the words that ask for the code.
ALLOWED = re.compile(
    # The amounts the script says, and the labels of a mono call whose roles are not known ("speaker1").
    r"\b(six hundred|600|eighty[- ]two|82)(\s*pounds?)\b|£\s?(600|82)\b|\bthree digits\b|\b3 digits\b"
    r"|\bspeaker\s?[12]\b",
    re.IGNORECASE,
)
NUMBER_WORDS = re.compile(
    r"\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b",
    re.IGNORECASE,
)


def synthesise(folder: Path, name: str) -> dict:
    """NAME-stereo.wav and NAME-mono.wav with their manifest."""
    call = CARD_CALLS[name]
    return make_speech.synthesise(folder, script=call["script"], name=name, voices=call["voices"])


def sensitive_digits() -> list[str]:
    """Every card number, security code and expiry date the scripts speak, as digits."""
    return [
        item["value"] for call in CARD_CALLS.values() for turn in call["script"] for item in turn.get("sensitive", [])
    ]


def leaks(text: str) -> list[str]:
    """Digits and number words left in ``text`` once the allowed amounts are taken out.

    A run of two or more digits is a leak when it is part of a value the scripts mark sensitive;
    another (the speech model hearing "eighty two pounds" as "92 pounds", say) is a transcription
    of an amount, not card data. Lone digits and number words are always leaks.
    """
    rest = ALLOWED.sub(" ", text)
    values = sensitive_digits()
    runs = [run for run in re.findall(r"\d+", rest) if len(run) == 1 or any(run in value for value in values)]
    return runs + NUMBER_WORDS.findall(rest)


def insight_texts(insights: dict) -> list[str]:
    """Every text an analysis derives from the transcript (not the metric figures)."""
    texts = [insights.get("summary") or "", *insights.get("keywords", []), *insights.get("topics", [])]
    texts += [item["text"] for item in insights.get("action_items", [])]
    return texts


def sensitive_turns(manifest: dict) -> list[dict]:
    return [turn for turn in manifest["turns"] if turn.get("sensitive")]


def loud_seconds(path: str | Path, start: float, end: float, threshold: float = 0.003) -> float:
    """Seconds of 10 ms frames between ``start`` and ``end`` of a WAV that are not silent."""
    with wave.open(str(path)) as handle:
        rate, channels = handle.getframerate(), handle.getnchannels()
        handle.setpos(int(start * rate))
        raw = handle.readframes(max(0, int((end - start) * rate)))
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32).reshape(-1, channels) / 32768.0
    hop = rate // 100
    frames = samples[: (samples.shape[0] // hop) * hop].reshape(-1, hop, channels)
    loud = np.sqrt((frames**2).mean(axis=1)).max(axis=1) > threshold
    return float(loud.sum()) / 100.0


def unsilenced(redacted_wav: str | Path, manifest: dict) -> list[tuple[str, float]]:
    """Each sensitive turn still audible in the redacted copy, with how many seconds of it."""
    found = []
    for turn in sensitive_turns(manifest):
        seconds = loud_seconds(redacted_wav, turn["start"], turn["end"])
        if seconds > 0:
            found.append((turn["text"], seconds))
    return found
