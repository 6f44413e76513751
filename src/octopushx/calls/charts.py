"""Small server-rendered charts (inline SVG drawn by the template from these numbers)."""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 600, 120, 6


def sentiment_timeline(points: list[dict], duration: float) -> dict:
    """One polyline per speaker: time on x, score (-1..1) on y, zero line in the middle."""
    by_speaker: dict[str, list[str]] = {}
    span = max(duration, 1.0)
    for point in sorted(points, key=lambda p: p.get("time", 0)):
        x = PAD + (WIDTH - 2 * PAD) * min(max(point.get("time", 0) / span, 0.0), 1.0)
        y = HEIGHT / 2 - (HEIGHT / 2 - PAD) * max(-1.0, min(1.0, point.get("score", 0.0)))
        by_speaker.setdefault(point.get("speaker", "unknown"), []).append(f"{x:.1f},{y:.1f}")
    lines = [{"speaker": speaker, "points": " ".join(coords)} for speaker, coords in sorted(by_speaker.items())]
    return {"width": WIDTH, "height": HEIGHT, "zero": HEIGHT / 2, "lines": lines, "empty": not lines}
