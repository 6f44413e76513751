"""``octopushx analyze FILE``: run the pipeline on one recording and print the result (no server)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import TextIO

from octopushx.intelligence.config import AnalysisSettings, settings_from_environment

VALID_ROLES = ("agent", "customer", "unknown")


class ConsoleError(Exception):
    """A user-facing failure of ``analyze``: printed without a traceback."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the recording: WAV, MP3, OGG/Opus, FLAC, M4A/AAC…")
    parser.add_argument(
        "--channel-roles",
        default="agent,customer",
        help="roles of a stereo file's left and right channels (default agent,customer); "
        "'mono' mixes them and separates speakers by clustering",
    )
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--words", action="store_true", help="with --json: include word timings")
    # Unset options take the server's values (OCTOPUSHX_ASR_* or the defaults): a file gives the
    # same transcript here as in the web app's processing job.
    parser.add_argument("--model", help="speech model name or directory (default: OCTOPUSHX_ASR_MODEL or tiny.en)")
    parser.add_argument("--device", help="cpu, cuda or auto (default: OCTOPUSHX_ASR_DEVICE or cpu)")
    parser.add_argument("--compute-type", help="CTranslate2 compute type (default: OCTOPUSHX_ASR_COMPUTE_TYPE or int8)")
    parser.add_argument("--beam-size", type=int, help="beam size (default: OCTOPUSHX_ASR_BEAM_SIZE or 5)")
    parser.add_argument("--threads", type=int, help="CPU threads, 0 automatic (default: OCTOPUSHX_ASR_THREADS or 0)")
    parser.add_argument("--no-vad", action="store_true", help="transcribe silence too")
    parser.add_argument("--no-redact", action="store_true", help="show card numbers, emails… as said")
    parser.add_argument("--direction", choices=["inbound", "outbound"], help="helps label speakers of mono calls")
    parser.add_argument("--redacted-audio", metavar="OUT", help="also write a copy with redacted spans silenced")
    parser.add_argument(
        "--call-time",
        metavar="YYYY-MM-DDTHH:MM",
        help="when the call took place, for action items' due dates (default: now)",
    )


def _roles(value: str) -> tuple[str, ...] | None:
    if value.strip().lower() in ("mono", "none", ""):
        return None
    roles = tuple(part.strip().lower() for part in value.split(","))
    if len(roles) != 2 or any(role not in VALID_ROLES for role in roles):
        raise ConsoleError(f"--channel-roles takes two of {', '.join(VALID_ROLES)} separated by a comma, or 'mono'")
    return roles


class ProgressBar:
    """A one-line progress bar on a terminal (stderr)."""

    def __init__(self, stream: TextIO, width: int = 30):
        self.stream, self.width, self.last = stream, width, -1

    def __call__(self, stage: str, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == self.last and stage != "done":
            return
        self.last = percent
        filled = int(fraction * self.width)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}% {stage:<10}")
        if stage == "done":
            self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def print_report(result, out: TextIO) -> None:
    """The human-readable report: transcript, then the insights."""
    insights = result.insights
    info = result.audio
    out.write(
        f"{info.duration:.1f} s, {info.channels} channel(s), {info.sample_rate} Hz {info.codec}; "
        f"speakers by {result.provenance.diarisation}; model {result.provenance.asr_model} "
        f"({result.provenance.asr_model_version})\n\n"
    )
    out.write("Transcript\n")
    for utterance in result.utterances:
        out.write(
            f"  [{_clock(utterance.start)}] {utterance.speaker:<8} {utterance.text}  ({utterance.sentiment:+.2f})\n"
        )
    if not result.utterances:
        out.write("  (no speech)\n")
    summary_text = (insights.summary or "-").replace("\n", "\n  ")
    out.write(f"\nSummary ({insights.summary_source})\n  {summary_text}\n")
    out.write("\nAction items\n")
    for item in insights.action_items:
        due = f" — due {item.due_date} ({item.due})" if item.due_date else (f" — due {item.due}" if item.due else "")
        out.write(f"  - [{item.owner}] {item.verb_phrase or item.text}{due}\n")
    if not insights.action_items:
        out.write("  (none)\n")
    out.write(f"\nKeywords: {', '.join(insights.keywords) or '-'}\n")
    out.write(f"Topics: {', '.join(insights.topics) or '-'}\n")
    sentiment = insights.sentiment
    by_speaker = ", ".join(f"{s} {v:+.2f}" for s, v in sentiment.by_speaker.items())
    out.write(f"Sentiment: overall {sentiment.overall:+.2f} ({by_speaker or '-'})\n")
    m = insights.metrics
    out.write("\nMetrics\n")
    out.write("  talk ratio:        " + ", ".join(f"{s} {v:.0%}" for s, v in m.talk_ratio.items()) + "\n")
    if m.longest_monologue.get("speaker"):
        out.write(
            f"  longest monologue: {m.longest_monologue['seconds']:.1f} s by {m.longest_monologue['speaker']}"
            f" at {_clock(m.longest_monologue['start'])}\n"
        )
    out.write("  interruptions:     " + ", ".join(f"{s} {v}" for s, v in m.interruptions.items()) + "\n")
    out.write("  questions:         " + ", ".join(f"{s} {v}" for s, v in m.questions.items()) + "\n")
    out.write(f"  silence:           {m.silence_ratio:.0%}\n")
    out.write("  words per minute:  " + ", ".join(f"{s} {v:.0f}" for s, v in m.words_per_minute.items()) + "\n")
    if m.patience is not None:
        out.write(f"  patience:          {m.patience:.2f} s (agent's pause before replying)\n")
    counts = result.redaction.counts()
    out.write("\nRedacted: " + (", ".join(f"{k} ×{n}" for k, n in counts.items()) or "nothing") + "\n")
    for warning in result.warnings:
        out.write(f"Warning: {warning}\n")


def command_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> AnalysisSettings:
    """The server's settings (read from the environment like Django's ``CALLS_ANALYSIS``) with
    the options given on the command line."""
    try:
        base = settings_from_environment(os.environ if environ is None else environ)
    except ValueError as exc:
        raise ConsoleError(str(exc)) from exc
    given = {
        "model": args.model,
        "device": args.device,
        "compute_type": args.compute_type,
        "beam_size": args.beam_size,
        "cpu_threads": args.threads,
    }
    changes: dict = {name: value for name, value in given.items() if value is not None}
    if args.no_vad:
        changes["vad_filter"] = False
    if args.no_redact:
        changes["redact"] = False
    if changes.get("beam_size", 1) < 1:
        raise ConsoleError("--beam-size must be at least 1")
    return replace(base, **changes)


def _call_time(value: str | None):
    from datetime import datetime

    if not value:
        return datetime.now()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ConsoleError(f"--call-time must be a date and time such as 2026-12-07T10:15, got {value!r}") from None


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> None:
    """Analyse ``args.file`` and print the report or JSON; raises :class:`ConsoleError`."""
    from octopushx.intelligence import IntelligenceError, analyse, redact_audio

    out = out or sys.stdout
    err = err or sys.stderr
    roles = _roles(args.channel_roles)
    settings = command_settings(args)
    progress = ProgressBar(err) if err.isatty() else None
    try:
        result = analyse(
            args.file,
            channel_roles=roles,
            settings=settings,
            progress=progress,
            direction=args.direction,
            call_time=_call_time(getattr(args, "call_time", None)),
        )
        if args.redacted_audio:
            seconds = redact_audio(args.file, args.redacted_audio, result.redaction)
            err.write(f"Wrote {args.redacted_audio} ({seconds:.1f} s silenced)\n")
    except IntelligenceError as exc:
        raise ConsoleError(str(exc)) from exc
    except ValueError as exc:  # an unsupported output suffix
        raise ConsoleError(str(exc)) from exc
    if args.json:
        json.dump(result.to_dict(words=args.words), out, indent=2)
        out.write("\n")
    else:
        print_report(result, out)
