"""The call page's chart data, drawn in the browser by Apache ECharts (``calls/charts.js``).

The page carries it in a ``<script type="application/json">`` block: no inline script runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Speaker colours shared with the transcript (app.css ``--agent`` and friends).
COLOURS = {"agent": "#1d4ed8", "customer": "#b45309", "speaker1": "#0f766e", "speaker2": "#7c3aed"}
OTHER = "#5b6470"


def colour(speaker: str) -> str:
    return COLOURS.get(speaker, OTHER)


def sentiment_timeline(points: list[dict], name: Callable[[str], str]) -> list[dict[str, Any]]:
    """One line per speaker: ``[seconds, score]`` points in time order, named for people."""
    by_speaker: dict[str, list[list[float]]] = {}
    for point in sorted(points, key=lambda p: p.get("time", 0)):
        score = max(-1.0, min(1.0, float(point.get("score", 0.0))))
        by_speaker.setdefault(point.get("speaker", "unknown"), []).append([round(point.get("time", 0), 1), score])
    return [
        {"speaker": speaker, "name": name(speaker), "colour": colour(speaker), "points": coords}
        for speaker, coords in sorted(by_speaker.items())
    ]


def talk_time(metrics: dict[str, Any], name: Callable[[str], str]) -> list[dict[str, Any]]:
    """Seconds each speaker talked (and their share), largest first."""
    seconds = metrics.get("talk_time") or {}
    ratio = metrics.get("talk_ratio") or {}
    speakers = sorted(set(seconds) | set(ratio), key=lambda s: -float(seconds.get(s, 0) or 0))
    return [
        {
            "speaker": speaker,
            "name": name(speaker),
            "colour": colour(speaker),
            "seconds": round(float(seconds.get(speaker, 0) or 0), 1),
            "share": round(float(ratio.get(speaker, 0) or 0) * 100),
        }
        for speaker in speakers
    ]
