"""Throughput of the whole call pipeline against bare faster-whisper, side by side in one run.

For each synthesised call (stereo and mono, several formats) this times:

- bare: faster-whisper's own ``decode_audio`` (split per channel for stereo) and
  ``WhisperModel.transcribe`` on each channel, with exactly the pipeline's transcription options
  and the same loaded model;
- pipeline (default, the real Django path): ``calls.services.upload_call`` (probe, encrypt into
  blob storage, queue the job) then ``jobs.drain()`` running the ``calls.process`` job (decrypt,
  decode, transcribe, speakers, redaction, insights, the redacted recording encrypted and stored,
  waveform peaks, the result, transcript lines and search index written), on a fresh data folder
  with SQLite and the embedded queue;
- with ``--pure``: ``analyse`` alone, then the redacted copy and the JSON result written to disk.

Both sides use the same analysis settings (the ones the job uses). Each is run ``--rounds`` times
in alternating order and the fastest round is kept (the machine is shared). Prints audio seconds
per wall second for both and their ratio (target ≥ 0.9).

    python bench/pipeline_throughput.py [--rounds 2] [--repeat 2] [--beam-size 1] [--pure]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_speech  # noqa: E402

from octopushx.intelligence import AnalysisSettings, analyse, asr, redact_audio  # noqa: E402


def bare(path: str, stereo: bool, settings: AnalysisSettings) -> int:
    from faster_whisper import decode_audio

    model = asr.load_model(settings)
    options = asr.transcribe_options(settings)
    channels = decode_audio(path, split_stereo=stereo)
    channels = channels if stereo else (channels,)
    words = 0
    for samples in channels:
        segments, _info = model.transcribe(samples, **options)
        words += sum(len(s.text.split()) for s in segments)
    return words


def pipeline(path: str, stereo: bool, settings: AnalysisSettings, out_dir: Path) -> int:
    result = analyse(path, channel_roles=("agent", "customer") if stereo else None, settings=settings)
    suffix = ".wav"
    redact_audio(path, out_dir / f"{Path(path).stem}-redacted{suffix}", result.redaction)
    (out_dir / f"{Path(path).stem}.json").write_text(json.dumps(result.to_dict()))
    return sum(len(u.text.split()) for u in result.utterances)


class DjangoPipeline:
    """The calls app's own path on a fresh data folder: upload through the service, run the job."""

    def __init__(self, data_dir: Path, beam_size: int, threads: int):
        os.environ.update(
            OCTOPUSHX_DATA_DIR=str(data_dir),
            OCTOPUSHX_ASR_BEAM_SIZE=str(beam_size),
            OCTOPUSHX_ASR_THREADS=str(threads),
            OCTOPUSHX_LOG_LEVEL="WARNING",
        )
        for name in ("DATABASE_URL", "REDIS_URL", "OCTOPUSHX_TESTING"):
            os.environ.pop(name, None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        from octopushx.calls import services
        from octopushx.core import jobs
        from octopushx.core.context import Actor
        from octopushx.tenancy import services as tenancy

        self.services, self.jobs = services, jobs
        self.actor = Actor.system("bench")
        self.tenant = tenancy.create_organization(self.actor, name="Bench")
        self.settings = services.analysis_settings(services.call_settings(self.tenant))

    def __call__(self, path: str, stereo: bool) -> int:
        from octopushx.calls.models import CallStatus

        with open(path, "rb") as handle:
            call, _created = self.services.upload_call(
                self.tenant,
                self.actor,
                handle,
                filename=Path(path).name,
                size=os.path.getsize(path),
                data={"channel_roles": "agent,customer" if stereo else "mono"},
            )
        self.jobs.drain()
        call.refresh_from_db()
        if call.status != CallStatus.ANALYSED or call.redacted_id is None:
            raise RuntimeError(f"{path}: the job left the call {call.status}: {call.failure_reason}")
        return sum(len(text.split()) for text in call.lines.values_list("text", flat=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="plays of the long script per call")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--pure", action="store_true", help="time analyse() alone instead of the Django job")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.pure:
            settings = AnalysisSettings(beam_size=args.beam_size, cpu_threads=args.threads)
            pipeline_side = "pure pipeline"

            def run_pipeline(path: str, stereo: bool) -> int:
                return pipeline(path, stereo, settings, folder)
        else:
            run_pipeline = DjangoPipeline(folder / "data", args.beam_size, args.threads)
            settings = run_pipeline.settings
            pipeline_side = "Django job"
        short = make_speech.synthesise(folder, script="short", name="short", formats=("wav", "mp3"))
        long = make_speech.synthesise(
            folder, script="long", name="long", formats=("wav", "flac", "m4a"), repeat=args.repeat, seed=3
        )
        calls = [
            (short["files"]["stereo"]["mp3"], True, short["duration"]),
            (short["files"]["mono"]["wav"], False, short["duration"]),
            (long["files"]["stereo"]["flac"], True, long["duration"]),
            (long["files"]["stereo"]["m4a"], True, long["duration"]),
            (long["files"]["mono"]["wav"], False, long["duration"]),
        ]
        asr.load_model(settings)  # both sides share the loaded model
        bare(calls[0][0], True, settings)  # warm up
        best = {"bare": [float("inf")] * len(calls), "pipeline": [float("inf")] * len(calls)}
        words = {"bare": [0] * len(calls), "pipeline": [0] * len(calls)}
        for round_number in range(args.rounds):
            order = ("bare", "pipeline") if round_number % 2 == 0 else ("pipeline", "bare")
            for index, (path, stereo, _duration) in enumerate(calls):
                for side in order:
                    started = time.perf_counter()
                    if side == "bare":
                        words[side][index] = bare(path, stereo, settings)
                    else:
                        words[side][index] = run_pipeline(path, stereo)
                    best[side][index] = min(best[side][index], time.perf_counter() - started)

    audio_seconds = sum(c[2] for c in calls)
    print(
        f"settings: model {settings.model}, beam {settings.beam_size}, compute {settings.compute_type}, "
        f"vad {settings.vad_filter}, word timestamps {settings.word_timestamps}, rounds {args.rounds}; "
        f"pipeline side: {pipeline_side}"
    )
    print(f"{'file':<24} {'audio s':>8} {'bare s':>8} {'pipe s':>8} {'ratio':>6} {'words b/p':>10}")
    for index, (path, _stereo, duration) in enumerate(calls):
        b, p = best["bare"][index], best["pipeline"][index]
        print(
            f"{Path(path).name:<24} {duration:8.1f} {b:8.2f} {p:8.2f} {b / p:6.2f} "
            f"{words['bare'][index]:>4}/{words['pipeline'][index]:<5}"
        )
    bare_speed = audio_seconds / sum(best["bare"])
    pipe_speed = audio_seconds / sum(best["pipeline"])
    print(f"bare faster-whisper: {bare_speed:6.1f} audio s per wall s")
    print(f"whole pipeline:      {pipe_speed:6.1f} audio s per wall s ({pipeline_side})")
    print(f"pipeline / bare:     {pipe_speed / bare_speed:6.2f} (target >= 0.90)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
