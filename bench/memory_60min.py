"""Peak memory of the pipeline on a 60-minute stereo call (target: peak RSS under 1.5 GB).

Synthesises an hour of two-speaker speech (the long script played over and over), then analyses
it in a fresh child process (decode, transcribe both channels, speakers, redaction, insights,
and the redacted copy written) and reports that process's peak resident set size.

    python bench/memory_60min.py [--minutes 60] [--format flac]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHILD = """
import json, resource, sys, time
from octopushx.intelligence import analyse, redact_audio
started = time.perf_counter()
result = analyse(sys.argv[1])
analysed = time.perf_counter() - started
redact_audio(sys.argv[1], sys.argv[2], result.redaction)
print(json.dumps({
    "duration": result.audio.duration,
    "utterances": len(result.utterances),
    "redactions": result.redaction.counts(),
    "talk_ratio": result.insights.metrics.talk_ratio,
    "timings": result.timings,
    "analyse_seconds": analysed,
    "total_seconds": time.perf_counter() - started,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--format", default="flac", choices=["wav", "flac", "mp3", "m4a"])
    parser.add_argument("--limit-mb", type=float, default=1536.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        # the generator runs in its own process so its buffers are not counted
        one_play = 142.6  # seconds of one play of the long script with the default voices
        repeat = max(1, math.ceil(args.minutes * 60 / one_play))
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("make_speech.py")),
                str(folder),
                "--script",
                "long",
                "--name",
                "hour",
                "--repeat",
                str(repeat),
                "--formats",
                args.format,
            ],
            check=True,
            capture_output=True,
        )
        manifest = json.loads((folder / "hour.json").read_text())
        source = manifest["files"]["stereo"][args.format]
        print(
            f"synthesised {manifest['duration'] / 60:.1f} min stereo {args.format} "
            f"({Path(source).stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
        done = subprocess.run(
            [sys.executable, "-c", CHILD, source, str(folder / "hour-redacted.flac")],
            check=True,
            capture_output=True,
            text=True,
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = max(report["peak_rss_mb"], 0)
    print(f"audio:          {report['duration'] / 60:.1f} min, {report['utterances']} utterances")
    print(f"redactions:     {report['redactions']}")
    print(f"talk ratio:     {report['talk_ratio']} (script: {manifest['talk_ratio']})")
    print(f"timings (s):    {report['timings']}")
    print(
        f"speed:          {report['duration'] / report['analyse_seconds']:.1f}× real time "
        f"(analyse {report['analyse_seconds']:.0f} s, with redacted copy {report['total_seconds']:.0f} s)"
    )
    print(f"peak RSS:       {peak:.0f} MB of the analysing process (limit {args.limit_mb:.0f} MB)")
    print("PASS" if peak < args.limit_mb else "FAIL")
    return 0 if peak < args.limit_mb else 1


if __name__ == "__main__":
    sys.exit(main())
