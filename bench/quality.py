"""Quality of the pipeline on synthesised calls with a known script (bench/make_speech.py).

Reports, for the short and the long script:

- WER per speaker role on the dual-channel recording (reference: the script; numbers are
  compared digit by digit, punctuation and case ignored), and overall WER on the mono mix;
- talk-ratio error: |measured agent share − the script's| on stereo and on the mono mix;
- redaction on the labelled set (tests/intelligence/data/redaction_set.py, text as a speech
  recogniser writes it, no audio): per tag precision, recall and leaks, and how many amounts,
  dates, years, quantities… were redacted ("false redactions of amounts: N");
- redaction recall on the synthesised calls: of the sensitive items spoken (cards, CVV, expiry,
  sort codes, accounts, NI, emails, phones), how many got a span of the right tag over their turn
  (strict), of any tag (lenient), and how many leaked digits into the redacted transcript; per tag
  precision (spans over a turn holding an item of that tag); spans found outside any sensitive
  turn (false positives), and spans over a turn that says an amount (false redactions of amounts);
- diarisation accuracy on the mono mix: share of recognised words whose speaker label is the
  script's speaker at that moment (and the share labelled unknown);
- role accuracy on mono over several pairs of espeak-ng voices (``ROLE_VOICES``, from clearly
  different to one voice at two pitches): per call whether agent and customer were named, on
  what evidence and with what confidence, and whether they were named the right way round; in
  total the share of words given the right role, a wrong role, or no role (Speaker 1/2, unknown).
  The figure that matters is the wrong-role share: a role may be withheld, never guessed.

    python bench/quality.py [--scripts short,long,grouped,…] [--rate 16000] [--roles-only] [--redaction-only]

``--scripts`` takes make_speech's scripts (short, long) and the spoken card payments of
tests/intelligence/card_speech.py (by name: they say amounts as well as card data).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the labelled set lives with the tests

import make_speech  # noqa: E402
from tests.intelligence.card_speech import CARD_CALLS  # noqa: E402
from tests.intelligence.data.redaction_set import CASES  # noqa: E402
from tests.intelligence.redaction_eval import evaluate  # noqa: E402

from octopushx.intelligence import AnalysisSettings, analyse  # noqa: E402
from octopushx.intelligence.redaction import spoken_digits  # noqa: E402

AMOUNT = re.compile(r"\b(pounds?|quid|pence|dollars?|euros?)\b|[£$€]", re.IGNORECASE)


def labelled_set() -> int:
    """The per-tag table on the labelled set; returns the false redactions of amounts."""
    started = time.perf_counter()
    scores = evaluate(CASES)
    print(
        f"== redaction on the labelled set: {len(CASES)} cases, {sum(scores.items.values())} sensitive items, "
        f"{sum(scores.kept.values())} things that must stay readable ({time.perf_counter() - started:.2f} s)"
    )
    for line in scores.table():
        print(line)
    for problem in scores.problems:
        print(f"  ! {problem}")
    print(f"  false redactions of amounts: {scores.false['AMOUNT']}")
    return scores.false["AMOUNT"]


def normalise(text: str) -> list[str]:
    text = re.sub(r"[^\w\s'@.-]", " ", text.lower())
    text = re.sub(r"(?<=\w)[.-](?=\s|$)", " ", text)
    words = spoken_digits(text.replace("-", " ")).split()
    out: list[str] = []
    for word in words:
        if word.isdigit():
            out.extend(word)  # "4916" and "4 9 1 6" score the same
        else:
            out.append(word.strip(".'"))
    return [w for w in out if w]


def wer(reference: list[str], hypothesis: list[str]) -> float:
    if not reference:
        return 0.0 if not hypothesis else 1.0
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1] / len(reference)


# Pairs of (espeak voice, pitch, words per minute) for the agent and the customer.
ROLE_VOICES: list[dict[str, tuple[str, int, int]]] = [
    {"agent": ("en-gb-x-rp+f2", 70, 145), "customer": ("en-us", 40, 145)},
    {"agent": ("en-us+m3", 50, 160), "customer": ("en-gb+m1", 45, 150)},
    {"agent": ("en-gb-scotland+f3", 60, 150), "customer": ("en-us+f4", 55, 155)},
    {"agent": ("en-029+m2", 40, 150), "customer": ("en-gb-x-rp+m4", 50, 140)},
    {"agent": ("en-us+f2", 65, 150), "customer": ("en-us+m1", 35, 150)},
    {"agent": ("en-gb+m3", 45, 150), "customer": ("en-gb+m3", 55, 150)},  # one voice, two pitches
]
NO_ROLE = ("unknown", "speaker1", "speaker2")


def truth_speaker(manifest: dict, time: float, slack: float = 0.25) -> str | None:
    for turn in manifest["turns"]:
        if turn["start"] - slack <= time <= turn["end"] + slack:
            return turn["speaker"]
    return None


def redaction_scores(manifest: dict, result) -> dict:
    items = [(turn, item) for turn in manifest["turns"] for item in turn.get("sensitive", [])]
    strict = lenient = leaked = 0
    by_kind: dict[str, list[int]] = {}
    redacted_text = " ".join(u.text for u in result.utterances)
    redacted_digits = "".join(ch for ch in redacted_text if ch.isdigit())
    for turn, item in items:
        spans = [
            s
            for s in result.redaction.spans
            if s.start < turn["end"] + 0.5 and s.end > turn["start"] - 0.5 and s.speaker in (turn["speaker"], *NO_ROLE)
        ]
        exact = any(s.kind == item["kind"] for s in spans)
        strict += exact
        lenient += bool(spans)
        digits = re.sub(r"\D", "", item["value"])
        if len(digits) >= 6 and any(digits[i : i + 4] in redacted_digits for i in range(len(digits) - 3)):
            leaked += 1
        stats = by_kind.setdefault(item["kind"], [0, 0])
        stats[0] += exact
        stats[1] += 1
    sensitive_turns = [t for t, _ in items]
    false_positives = sum(
        1
        for s in result.redaction.spans
        if not any(s.start < t["end"] + 0.5 and s.end > t["start"] - 0.5 for t in sensitive_turns)
    )
    # precision per tag: a span is right when it lies over a turn holding an item of its tag
    precision: dict[str, list[int]] = {}
    for span in result.redaction.spans:
        near = [t for t in manifest["turns"] if span.start < t["end"] + 0.5 and span.end > t["start"] - 0.5]
        right = any(item["kind"] == span.kind for t in near for item in t.get("sensitive", []))
        stats = precision.setdefault(span.kind, [0, 0])
        stats[0] += right
        stats[1] += 1
    amount_turns = [t for t in manifest["turns"] if AMOUNT.search(t["text"]) and not t.get("sensitive")]
    amounts_redacted = sum(
        1
        for t in amount_turns
        if any(s.start < t["end"] - 0.1 and s.end > t["start"] + 0.1 for s in result.redaction.spans)
    )
    return {
        "items": len(items),
        "strict": strict,
        "lenient": lenient,
        "leaked": leaked,
        "false_positives": false_positives,
        "by_kind": by_kind,
        "precision": precision,
        "amounts": len(amount_turns),
        "amounts_redacted": amounts_redacted,
    }


def role_scores(manifest: dict, result) -> dict:
    """Words (with a script speaker) given the right role, a wrong role, or none."""
    counts = {"right": 0, "wrong": 0, "none": 0}
    for utterance in result.utterances:
        for word in utterance.words:
            expected = truth_speaker(manifest, (word.start + word.end) / 2)
            if expected is None:
                continue
            if utterance.speaker in NO_ROLE:
                counts["none"] += 1
            else:
                counts["right" if utterance.speaker == expected else "wrong"] += 1
    return counts


def mono_roles(scripts: list[str], rate: int, settings: AnalysisSettings) -> None:
    """The role-accuracy table over ``ROLE_VOICES`` × scripts (mono mixes only)."""
    print(f"== mono role accuracy: {len(ROLE_VOICES)} voice pairs × {len(scripts)} scripts, {rate} Hz")
    totals = {"right": 0, "wrong": 0, "none": 0}
    named = named_right = calls = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number, voices in enumerate(ROLE_VOICES, 1):
            for name in scripts:
                manifest = make_speech.synthesise(
                    tmp,
                    script=CARD_CALLS.get(name, {"script": name})["script"],
                    name=f"{name}-{number}",
                    rate=rate,
                    formats=("wav",),
                    voices=voices,
                )
                result = analyse(manifest["files"]["mono"]["wav"], channel_roles=None, settings=settings)
                counts = role_scores(manifest, result)
                for key in totals:
                    totals[key] += counts[key]
                speakers = getattr(result, "speakers", None)
                known = counts["right"] + counts["wrong"] > 0
                right_way = known and counts["right"] > counts["wrong"]
                calls += 1
                named += known
                named_right += right_way
                words = max(1, sum(counts.values()))
                evidence = (
                    f"{speakers.role_source}, confidence {speakers.confidence:.2f}, silhouette {speakers.silhouette}"
                    if speakers is not None
                    else result.provenance.diarisation
                )
                ratio = result.insights.metrics.talk_ratio
                ratio_text = (
                    f"agent {ratio['agent']:.2f} (script {manifest['talk_ratio']['agent']:.2f})"
                    if ratio.get("agent") or ratio.get("customer")
                    else "per speaker " + ", ".join(f"{k} {v:.2f}" for k, v in ratio.items())
                )
                verdict = ("right way round" if right_way else "SWAPPED") if known else "not named"
                print(
                    f"  pair {number} {name:<5} {voices['agent'][0]}/{voices['customer'][0]:<16} "
                    f"roles {verdict:<15} words right {counts['right'] / words:6.1%} "
                    f"wrong {counts['wrong'] / words:6.1%} none {counts['none'] / words:6.1%}  "
                    f"[{evidence}]  talk ratio {ratio_text}"
                )
    words = max(1, sum(totals.values()))
    print(
        f"== mono roles: named on {named}/{calls} calls, the right way round on {named_right}/{named}; "
        f"words: {totals['right'] / words:.1%} right role, {totals['wrong'] / words:.1%} wrong role, "
        f"{totals['none'] / words:.1%} no role (Speaker 1/2 or unknown)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scripts", default="short,long")
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--roles-only", action="store_true", help="only the mono role accuracy over voice pairs")
    parser.add_argument("--no-roles", action="store_true", help="skip the mono role accuracy")
    parser.add_argument(
        "--redaction-only", action="store_true", help="only the redaction table on the labelled set (no audio)"
    )
    args = parser.parse_args(argv)
    labelled_set()
    if args.redaction_only:
        return 0
    if args.roles_only:
        mono_roles(args.scripts.split(","), args.rate, AnalysisSettings(beam_size=args.beam_size))
        return 0
    settings = AnalysisSettings(keep_original=True, beam_size=args.beam_size)
    totals = {
        "items": 0,
        "strict": 0,
        "lenient": 0,
        "leaked": 0,
        "false_positives": 0,
        "amounts": 0,
        "amounts_redacted": 0,
    }
    spans_by_tag: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scripts.split(","):
            # "short"/"long" (make_speech) or a spoken card payment of tests/intelligence/card_speech.py
            call = CARD_CALLS.get(name, {"script": name, "voices": None})
            manifest = make_speech.synthesise(
                tmp, script=call["script"], name=name, rate=args.rate, formats=("wav",), voices=call["voices"]
            )
            stereo = analyse(manifest["files"]["stereo"]["wav"], settings=settings)
            mono = analyse(manifest["files"]["mono"]["wav"], channel_roles=None, settings=settings)
            print(
                f"== {name} script: {manifest['duration']:.1f} s at {args.rate} Hz, "
                f"{len(manifest['turns'])} turns, voices {manifest['voices']}"
            )
            for role in ("agent", "customer"):
                reference = normalise(" ".join(t["text"] for t in manifest["turns"] if t["speaker"] == role))
                hypothesis = normalise(" ".join(u.text for u in stereo.original_utterances if u.speaker == role))
                print(
                    f"  WER {role:<9} (stereo): {wer(reference, hypothesis):6.1%}  ({len(reference)} reference words)"
                )
            reference = normalise(" ".join(t["text"] for t in manifest["turns"]))
            hypothesis = normalise(" ".join(u.text for u in mono.original_utterances))
            print(f"  WER overall   (mono):   {wer(reference, hypothesis):6.1%}")
            truth = manifest["talk_ratio"]["agent"]
            for label, result in (("stereo", stereo), ("mono", mono)):
                measured = result.insights.metrics.talk_ratio.get("agent")
                if measured is None:
                    print(f"  talk ratio agent ({label:<6}): not given (roles unknown), script {truth:.3f}")
                    continue
                print(
                    f"  talk ratio agent ({label:<6}): measured {measured:.3f}, script {truth:.3f}, "
                    f"error {abs(measured - truth):.3f}"
                )
            right = total = unknown = 0
            for utterance in mono.utterances:
                for word in utterance.words:
                    expected = truth_speaker(manifest, (word.start + word.end) / 2)
                    if expected is None:
                        continue
                    total += 1
                    right += utterance.speaker == expected
                    unknown += utterance.speaker in NO_ROLE
            print(
                f"  diarisation (mono): {right / max(1, total):6.1%} of {total} words right, "
                f"{unknown / max(1, total):.1%} without a role ({mono.provenance.diarisation})"
            )
            for label, result in (("stereo", stereo), ("mono", mono)):
                scores = redaction_scores(manifest, result)
                for key in totals:
                    totals[key] += scores[key]
                for kind, (right, found) in scores["precision"].items():
                    stats = spans_by_tag.setdefault(kind, [0, 0])
                    stats[0] += right
                    stats[1] += found
                kinds = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(scores["by_kind"].items()))
                exact = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(scores["precision"].items()))
                print(
                    f"  redaction ({label:<6}): recall {scores['strict']}/{scores['items']} right tag, "
                    f"{scores['lenient']}/{scores['items']} any tag, {scores['leaked']} leaked, "
                    f"{scores['false_positives']} outside sensitive turns  [{kinds}]; precision [{exact}]; "
                    f"amount turns redacted {scores['amounts_redacted']}/{scores['amounts']}"
                )
    right = sum(a for a, _ in spans_by_tag.values())
    found = sum(b for _, b in spans_by_tag.values())
    print(
        f"== redaction over all runs: recall {totals['strict'] / max(1, totals['items']):.1%} right tag, "
        f"{totals['lenient'] / max(1, totals['items']):.1%} any tag, {totals['leaked']} leaked, "
        f"{totals['false_positives']} false positives; precision {right / max(1, found):.1%} "
        f"({right}/{found} spans)  ["
        + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(spans_by_tag.items()))
        + f"]; false redactions of amounts: {totals['amounts_redacted']} of {totals['amounts']} amount turns"
    )
    if not args.no_roles:
        mono_roles(args.scripts.split(","), args.rate, AnalysisSettings(beam_size=args.beam_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
