"""No card data on the command line's path (issue 10 §2): spoken card numbers, security codes and
expiry dates, stereo and mono, two pairs of voices and speeds, through ``octopushx analyze``'s
own function. Nothing of them may be left in the transcript, the insights or the redacted audio
(checked against the script's timeline: where a value was spoken, the copy must be silent)."""

from __future__ import annotations

import argparse
import io
import json
import re

import pytest

from octopushx.intelligence import console
from tests.intelligence.card_speech import CARD_CALLS, insight_texts, leaks, synthesise, unsilenced

CASES = [(name, kind) for name in CARD_CALLS for kind in ("stereo", "mono")]


def analyze(path, *options: str) -> dict:
    """``octopushx analyze PATH --json OPTIONS`` in this process (the model stays loaded)."""
    parser = argparse.ArgumentParser()
    console.add_arguments(parser)
    out = io.StringIO()
    console.run(parser.parse_args([str(path), "--json", *options]), out=out, err=io.StringIO())
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """Each call and channel layout analysed once, with its redacted copy."""
    folder = tmp_path_factory.mktemp("card-speech")
    results = {}
    for name in CARD_CALLS:
        manifest = synthesise(folder, name)
        for kind in ("stereo", "mono"):
            redacted = folder / f"{name}-{kind}-redacted.wav"
            result = analyze(manifest["files"][kind]["wav"], "--redacted-audio", str(redacted))
            results[name, kind] = (manifest, result, redacted)
    return results


def transcript(result: dict) -> str:
    return "\n".join(f"{u['speaker']}: {u['text']}" for u in result["utterances"])


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_spoken_card_data_is_not_in_the_transcript(analysed, name, kind):
    _manifest, result, _redacted = analysed[name, kind]
    text = transcript(result)
    assert leaks(text) == [], text
    kinds = {span["kind"] for span in result["redaction"]["spans"]}
    assert "CARD" in kinds and "CVV" in kinds, (kinds, text)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_spoken_card_data_is_not_in_the_insights(analysed, name, kind):
    _manifest, result, _redacted = analysed[name, kind]
    for text in insight_texts(result["insights"]):
        assert leaks(text) == [], (text, transcript(result))


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_spoken_card_data_is_silent_in_the_redacted_audio(analysed, name, kind):
    manifest, result, redacted = analysed[name, kind]
    assert unsilenced(redacted, manifest) == [], (result["redaction"], transcript(result))


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_amounts_with_a_currency_word_are_kept(analysed, name, kind):
    _manifest, result, _redacted = analysed[name, kind]
    text = transcript(result)
    assert "pounds" in text and not re.search(r"\[[A-Z_]+\]\W*pounds", text), text
