"""QA scorecards' AI suggestions, the pure part: an answer for a question from the transcript,
the call's metrics or its tracker hits, always with the evidence that justifies it.

When nothing in the call speaks for an answer the question is left unsuggested: a rule that finds
no greeting does not say "no" (the greeting may have been cut off or mis-transcribed), it says
nothing. Metrics always carry their own evidence (the measured value), so they suggest both ways.
Only calls whose agent and customer are known are suggested from: otherwise "the agent" may be
the customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from octopushx.calls.scoring import RULES, Question

# Phrases each transcript rule listens for in the agent's lines (lower case, word-bounded).
PATTERNS: dict[str, list[str]] = {
    "greeting": [
        r"\b(hello|hi|hey|good (morning|afternoon|evening))\b",
        r"\bthanks? (you )?for (calling|contacting|holding)\b",
        r"\bwelcome to\b",
    ],
    "introduction": [
        r"\bmy name is\b",
        r"\bthis is [a-z]+\b",
        r"\b[a-z]+ speaking\b",
        r"\byou'?re (speaking|through) to\b",
    ],
    "asked_name": [
        r"\b(can|could|may) i (have|take|get|ask) your (full )?name\b",
        r"\bwho (am i|i am) speaking (to|with)\b",
        r"\bwhat(?:'s| is) your (full )?name\b",
        r"\bconfirm your (full )?name\b",
    ],
    "verification": [
        r"\bdate of birth\b",
        r"\bpost ?code\b|\bzip code\b",
        r"\bsecurity (question|check|word|answer)\b",
        r"\b(verify|confirm) (your|the) (identity|account|details|address|email)\b",
        r"\blast (four|4) digits\b",
        r"\baccount number\b",
    ],
    "empathy": [
        r"\b(i'?m|i am|so|really) sorry\b",
        r"\bapologi[sz]e\b",
        r"\bi (completely |totally |fully )?understand\b",
        r"\bthat must be\b",
        r"\bi can (see|imagine|hear)\b",
        r"\bfrustrating\b",
    ],
    "next_steps": [
        r"\bnext steps?\b",
        r"\bi(?:'ll| will) (send|email|call|follow|arrange|book|get|ring|text)\b",
        r"\byou(?:'ll| will) (receive|get|hear)\b",
        r"\bby (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|the end of)\b",
        r"\bfollow(?:ing)? up\b",
        r"\bto (recap|summari[sz]e)\b",
    ],
    "closing": [
        r"\banything else\b",
        r"\b(have|enjoy) a (good|great|nice|lovely) (day|evening|afternoon|weekend)\b",
        r"\bthanks? (you )?for (calling|your call|your time)\b",
        r"\b(good)?bye\b",
        r"\btake care\b",
    ],
}
# Where in the call a rule looks: the first lines, the last lines, or anywhere.
WINDOWS = {"greeting": "opening", "introduction": "opening", "closing": "ending"}
OPENING_LINES = 3
ENDING_LINES = 4
SCALE_BANDS = ((-0.3, "1"), (-0.05, "2"), (0.05, "3"), (0.3, "4"))  # customer sentiment → 1..5


@dataclass
class Suggestion:
    value: str
    source: str  # rule | tracker | metric
    reason: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "reason": self.reason, "evidence": self.evidence}


@dataclass
class CallFacts:
    """What the suggestions read from one call, as plain values."""

    utterances: list[dict[str, Any]]  # {position, speaker, start, end, text, sentiment}
    metrics: dict[str, Any]  # the analysis's insights.metrics
    sentiment: dict[str, Any]  # the analysis's insights.sentiment
    roles_known: bool
    hits: list[dict[str, Any]] = field(default_factory=list)  # {tracker_id, tracker, phrase, position, start, speaker}
    action_items: list[dict[str, Any]] = field(default_factory=list)


def line(u: dict[str, Any], note: str = "") -> dict[str, Any]:
    item = {
        "kind": "line",
        "position": u["position"],
        "start": round(float(u["start"]), 2),
        "speaker": u["speaker"],
        "text": str(u["text"])[:300],
    }
    if note:
        item["note"] = note
    return item


def metric(name: str, value: float, label: str) -> dict[str, Any]:
    return {"kind": "metric", "name": name, "value": round(float(value), 3), "label": label}


def _matches(rule: str, text: str) -> bool:
    lowered = text.lower()
    return any(re.search(pattern, lowered) for pattern in PATTERNS[rule])


def rule_lines(rule: str, facts: CallFacts) -> list[dict[str, Any]]:
    """The agent's lines that satisfy ``rule`` (within its window of the call)."""
    agent = [u for u in facts.utterances if u["speaker"] == "agent"]
    window = WINDOWS.get(rule)
    if window == "opening":
        agent = agent[:OPENING_LINES]
    else:
        # closing and a summary of what happens next belong to the second half of the call
        half = (facts.utterances[-1]["end"] if facts.utterances else 0) / 2
        if window == "ending":
            agent = [u for u in agent if u["start"] >= half][-ENDING_LINES:]
        elif rule == "next_steps":
            agent = [u for u in agent if u["end"] >= half]
    return [u for u in agent if _matches(rule, u["text"])]


def _by_position(facts: CallFacts) -> dict[int, dict[str, Any]]:
    return {u["position"]: u for u in facts.utterances}


def suggest_rule(question: Question, facts: CallFacts) -> Suggestion | None:
    rule = question.auto.rule
    found = rule_lines(rule, facts)[:3]
    if not found:
        return None
    return Suggestion("yes", "rule", RULES[rule], [line(u) for u in found])


def suggest_tracker(question: Question, facts: CallFacts) -> Suggestion | None:
    hits = [h for h in facts.hits if str(h["tracker_id"]) == str(question.auto.tracker_id)]
    if not hits:
        return None  # not heard is not proof: the tracker may have missed a wording
    lines = _by_position(facts)
    evidence = []
    for hit in hits[:3]:
        u = lines.get(hit["position"])
        if u is not None:
            evidence.append(line(u, f"{hit['tracker']}: “{hit['phrase']}”"))
    if not evidence:
        return None
    name = hits[0]["tracker"]
    if question.auto.expect == "present":
        return Suggestion("yes", "tracker", f"Tracker “{name}” was heard", evidence)
    return Suggestion("no", "tracker", f"Tracker “{name}” was heard, and should not have been", evidence)


def _longest_agent_run(facts: CallFacts) -> list[dict[str, Any]]:
    """The agent's lines of their longest uninterrupted stretch."""
    best: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []
    for u in facts.utterances:
        if u["speaker"] == "agent":
            run.append(u)
            if run[-1]["end"] - run[0]["start"] > (best[-1]["end"] - best[0]["start"] if best else -1):
                best = list(run)
        else:
            run = []
    return best


def _interruptions(facts: CallFacts) -> list[dict[str, Any]]:
    """Agent lines that started before the customer's line before them had ended."""
    found = []
    for before, after in zip(facts.utterances, facts.utterances[1:], strict=False):
        if before["speaker"] == "customer" and after["speaker"] == "agent" and after["start"] < before["end"] - 0.3:
            found.append(after)
    return found


def suggest_metric(question: Question, facts: CallFacts) -> Suggestion | None:
    auto = question.auto
    metrics = facts.metrics
    name, limit = auto.metric, float(auto.limit)
    if name == "customer_sentiment":
        by_speaker = facts.sentiment.get("by_speaker") or {}
        value = by_speaker.get("customer")
        if not isinstance(value, int | float):
            return None
        customer = sorted((u for u in facts.utterances if u["speaker"] == "customer"), key=lambda u: u["sentiment"])
        evidence = [metric("customer_sentiment", value, "Customer sentiment")]
        if customer:  # the line that weighs most towards the answer
            evidence.append(line(customer[-1] if value >= limit else customer[0]))
        if question.kind == "scale":
            answer = next((band for bound, band in SCALE_BANDS if value < bound), "5")
            return Suggestion(answer, "metric", f"Customer sentiment {value:+.2f}", evidence)
        return Suggestion("yes" if value >= limit else "no", "metric", f"Customer sentiment {value:+.2f}", evidence)
    if name == "talk_ratio":
        value = (metrics.get("talk_ratio") or {}).get("agent")
        if not isinstance(value, int | float):
            return None
        evidence = [metric("talk_ratio", value, "Agent talk ratio")]
        run = _longest_agent_run(facts)
        if run and value > limit:
            evidence.append(line(run[0], "Start of the agent's longest stretch"))
        return Suggestion(
            "yes" if value <= limit else "no", "metric", f"Agent talked {value:.0%} of the time", evidence
        )
    if name == "longest_monologue":
        value = (metrics.get("longest_monologue_by_speaker") or {}).get("agent")
        if not isinstance(value, int | float):
            return None
        evidence = [metric("longest_monologue", value, "Agent's longest monologue (s)")]
        run = _longest_agent_run(facts)
        if run:
            evidence.append(line(run[0], "Start of the longest monologue"))
        return Suggestion("yes" if value <= limit else "no", "metric", f"Longest monologue {value:.0f} s", evidence)
    if name == "interruptions":
        value = (metrics.get("interruptions") or {}).get("agent")
        if not isinstance(value, int | float):
            return None
        evidence = [metric("interruptions", value, "Times the agent interrupted")]
        evidence += [line(u, "Interrupted the customer") for u in _interruptions(facts)[:3]]
        return Suggestion(
            "yes" if value <= limit else "no", "metric", f"The agent interrupted {value:.0f} time(s)", evidence
        )
    return None


def suggest(question: Question, facts: CallFacts) -> Suggestion | None:
    """The AI suggestion for one question, or ``None`` when the call gives no evidence for one."""
    if question.auto is None or not facts.roles_known or not facts.utterances:
        return None
    source = question.auto.source
    if source == "llm":
        return None  # asked of the language model in a background job (``qa_llm``)
    if source == "rule":
        found = suggest_rule(question, facts)
    elif source == "tracker":
        found = suggest_tracker(question, facts)
    else:
        found = suggest_metric(question, facts)
    if found is None or question.option(found.value) is None:
        return None
    return found
