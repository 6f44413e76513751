"""Summary and action-item quality on the scripted calls (tests/intelligence/data/summary_calls.json).

For each candidate summariser: fact recall (reference names, amounts, dates, products found in
the summary), invented facts (name/number/date tokens the transcript does not hold, counted by
the facts-only check before it drops them), seconds per call and per five minutes of
conversation, and peak memory; for the action items: recall, false items per call and due dates
right. Two inputs:

- ``script``: the scripts' text as the transcript (what an exact ASR would give);
- ``asr``: each call spoken with espeak-ng (agent left, customer right, like bench/make_speech.py)
  and run through the whole pipeline (decode, ASR tiny.en, redaction, insights).

Candidates: ``extractive`` (the previous summariser: sentences as said), ``structured`` (the
default), and ``llm`` when ``--llm-url URL --llm-model NAME`` points at an OpenAI-compatible
server, or ``--gguf FILE`` names a GGUF model that llama-cpp-python serves on 127.0.0.1 for the
run (``--llama-path`` adds where llama_cpp is installed).

    python bench/summary_quality.py [--input script,asr] [--llm-url … --llm-model …] [--gguf FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.intelligence import summary_set  # noqa: E402

from octopushx.intelligence import AnalysisSettings, LLMError, LLMSettings, actions, analyse, facts, llm  # noqa: E402
from octopushx.intelligence import summary as summaries  # noqa: E402
from octopushx.intelligence.results import Utterance, Word  # noqa: E402


def _make_speech():
    spec = importlib.util.spec_from_file_location("make_speech", ROOT / "bench" / "make_speech.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def transcripts(
    kind: str, calls: list[dict], folder: Path, cache: Path | None = None
) -> dict[str, tuple[list[Utterance], float, float]]:
    """Each call's utterances, seconds of audio and seconds the pipeline took (0 for scripts);
    ``cache`` keeps the ASR transcripts in a JSON file to score again without transcribing."""
    result = {}
    if kind == "asr" and cache is not None and cache.exists():
        stored = json.loads(cache.read_text())
        for call in calls:
            utterances, seconds, took, turns = stored[call["id"]]
            rows = [Utterance(**{**u, "words": [Word(**w) for w in u["words"]]}) for u in utterances]
            result[call["id"]] = (rows, seconds, took, [tuple(t) for t in turns])
        return result
    if kind == "script":
        for call in calls:
            utterances = summary_set.utterances(call)
            spans = [(u.start, u.end) for u in utterances]
            result[call["id"]] = (utterances, utterances[-1].end, 0.0, spans)
        return result
    make_speech = _make_speech()
    for call in calls:
        script = [{"speaker": speaker, "text": text} for speaker, text in call["turns"]]
        manifest = make_speech.synthesise(folder, script=script, name=call["id"])
        started = time.perf_counter()
        analysis = analyse(manifest["files"]["stereo"]["wav"], settings=AnalysisSettings())
        spans = [(t["start"], t["end"]) for t in manifest["turns"]]
        result[call["id"]] = (analysis.utterances, manifest["duration"], time.perf_counter() - started, spans)
        print(f"  asr {call['id']}: {manifest['duration']:.0f} s of audio in {result[call['id']][2]:.1f} s", flush=True)
    if cache is not None:
        rows = {key: ([asdict(u) for u in utterances], *rest) for key, (utterances, *rest) in result.items()}
        cache.write_text(json.dumps(rows))
    return result


def _structured(utterances, items, _settings):
    return summaries.structured(utterances, items)


def _extractive(utterances, items, _settings):
    return summaries.extractive(utterances)


def _llm(utterances, items, settings: LLMSettings):
    transcript = "\n".join(f"{u.speaker}: {u.text}" for u in utterances)
    return llm.summarise_structured(transcript, settings, allowed=summaries.allowed_facts(items)).raw


def run(
    kind: str,
    calls: list[dict],
    candidates: dict,
    llm_settings: LLMSettings | None,
    folder: Path,
    cache: Path | None = None,
) -> dict:
    data = transcripts(kind, calls, folder, cache)
    report: dict = {"input": kind, "calls": len(calls), "candidates": {}}
    audio_seconds = sum(row[1] for row in data.values())
    pipeline_seconds = sum(row[2] for row in data.values())
    if kind == "asr":
        report["pipeline_seconds_per_5_min"] = round(pipeline_seconds / audio_seconds * 300, 1)
    for matching in ("by turn", "by words"):
        action_score = summary_set.Score()
        misses: dict[str, list[str]] = {}
        for call in calls:
            utterances, _, _, spans = data[call["id"]]
            items = actions.find(utterances, summary_set.call_time(call))
            missed = summary_set.score_actions(action_score, call, items, spans if matching == "by turn" else None)
            if missed:
                misses[call["id"]] = missed
        report[f"action_items ({matching})"] = {
            "recall": round(action_score.action_recall, 3),
            "found": f"{action_score.actions_found}/{action_score.actions}",
            "false_items": action_score.false_items,
            "false_per_call": round(action_score.false_items / len(calls), 2),
            "worst_false_in_one_call": action_score.worst_false_per_call,
            "due_dates_right": f"{action_score.dues_right}/{action_score.dues}",
            "missed": misses,
        }
    for name, summarise in candidates.items():
        score = summary_set.Score()
        seconds = 0.0
        missed_facts: dict[str, list[str]] = {}
        examples = {}
        failures = 0
        for call in calls:
            utterances = data[call["id"]][0]
            items = actions.find(utterances, summary_set.call_time(call))
            transcript = "\n".join(f"{u.speaker}: {u.text}" for u in utterances)
            started = time.perf_counter()
            try:
                raw = summarise(utterances, items, llm_settings)
            except LLMError as exc:
                raw = ""
                failures += 1
                print(f"  {name} {call['id']}: {exc}", flush=True)
            seconds += time.perf_counter() - started
            allowed = summaries.allowed_facts(items)
            # invented facts are counted in what the summariser wrote, before the check drops them
            score.invented += len(facts.check(raw, transcript, allowed=allowed).unsupported)
            shown = facts.check(raw, transcript, allowed=allowed).text
            missed = summary_set.score_summary(summary_set.Score(), call, shown, transcript, allowed)
            score.facts += len(call["facts"])
            score.facts_found += len(call["facts"]) - len(missed)
            if missed:
                missed_facts[call["id"]] = missed
            examples[call["id"]] = shown
        report["candidates"][name] = {
            "fact_recall": round(score.fact_recall, 3),
            "facts_found": f"{score.facts_found}/{score.facts}",
            "invented_facts_before_check": score.invented,
            "seconds_per_call": round(seconds / len(calls), 4),
            "seconds_per_5_min_of_talk": round(seconds / audio_seconds * 300, 4),
            "failures": failures,
            "missed": missed_facts,
            "example": examples[calls[0]["id"]],
        }
    report["peak_memory_mb"] = round(_peak_mb())
    return report


class _LlamaServer:
    """A minimal OpenAI-compatible chat-completions server around llama_cpp.Llama on 127.0.0.1."""

    def __init__(self, model_path: str, threads: int = 2):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import llama_cpp

        self.model = llama_cpp.Llama(model_path=model_path, n_ctx=4096, n_threads=threads, verbose=False)
        lock = threading.Lock()
        model = self.model

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kwargs = {"messages": body["messages"], "max_tokens": body.get("max_tokens", 400)}
                kwargs["temperature"] = body.get("temperature", 0.2)
                if body.get("response_format"):
                    kwargs["response_format"] = body["response_format"]
                with lock:
                    answer = model.create_chat_completion(**kwargs)
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default="script,asr", help="script, asr or both (comma-separated)")
    parser.add_argument("--llm-url")
    parser.add_argument("--llm-model", default="local")
    parser.add_argument("--llm-timeout", type=float, default=120.0)
    parser.add_argument("--gguf", help="a GGUF model to serve with llama-cpp-python for the llm candidate")
    parser.add_argument("--llama-path", help="a folder holding the llama_cpp package (pip --target)")
    parser.add_argument("--calls", type=int, default=0, help="only the first N calls")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--asr-cache", help="keep the ASR transcripts in this JSON file (reused when it exists)")
    args = parser.parse_args(argv)
    calls = summary_set.load()
    if args.calls:
        calls = calls[: args.calls]
    candidates = {"extractive": _extractive, "structured": _structured}
    llm_settings = None
    server = None
    if args.gguf:
        if args.llama_path:
            sys.path.insert(0, args.llama_path)
        server = _LlamaServer(args.gguf)
        args.llm_url = server.url
        args.llm_model = Path(args.gguf).stem
    if args.llm_url:
        llm_settings = LLMSettings(url=args.llm_url, model=args.llm_model, timeout=args.llm_timeout, retries=1)
        candidates[f"llm:{args.llm_model}"] = _llm
    reports = []
    try:
        with tempfile.TemporaryDirectory(prefix="summary-quality-") as folder:
            for kind in args.input.split(","):
                print(f"== {kind}", flush=True)
                cache = Path(args.asr_cache) if args.asr_cache else None
                report = run(kind.strip(), calls, candidates, llm_settings, Path(folder), cache)
                reports.append(report)
                print(json.dumps(report, indent=2), flush=True)
    finally:
        if server is not None:
            server.close()
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
