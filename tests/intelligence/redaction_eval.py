"""Score the redactor on a labelled set of utterances (tests/intelligence/data/redaction_set.py).

A case is a list of turns, ``"A: …"`` (agent) or ``"C: …"`` (customer), written as a speech
recogniser writes them. Sensitive items are marked ``{TAG: words}`` (``{TAG.1: …}`` joins parts
of one item said across turns); things that must stay readable are marked ``{~KIND: words}``
(``~AMOUNT``, ``~DATE``, ``~ORDER``…). Each word gets its own time, so a finding is read back
word by word from the redacted text.

Scores, per tag: recall (items whose every word got that tag), precision (findings whose words
lie in an item of that tag), leaks (items with a word left readable), and false redactions of
each kind of thing that must stay.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from octopushx.intelligence.redaction import redact
from octopushx.intelligence.results import Utterance, Word

MARK = re.compile(r"\{(~?)([A-Z_]+)(?:\.(\d+))?:\s*([^{}]*?)\s*\}")
SPEAKERS = {"A": "agent", "C": "customer"}
TAGS = ("CARD", "CVV", "EXPIRY", "ACCOUNT", "SORT_CODE", "NI", "EMAIL", "PHONE", "POSTCODE")


@dataclass
class Item:
    kind: str
    words: list[tuple[int, int]]  # (turn, word)
    keep: bool  # a thing that must not be redacted
    text: str = ""


@dataclass
class Case:
    name: str
    turns: list[tuple[str, list[str]]]  # (speaker, words)
    items: list[Item]


def parse(name: str, lines: list[str]) -> Case:
    turns: list[tuple[str, list[str]]] = []
    items: list[Item] = []
    joined: dict[tuple[str, str], Item] = {}
    for turn, line in enumerate(lines):
        speaker, _, text = line.partition(": ")
        words: list[str] = []
        position = 0
        for match in MARK.finditer(text):
            words.extend(text[position : match.start()].split())
            inner = match.group(4).split()
            # punctuation right after the mark belongs to its last word: "{CARD: 4556 …}."
            tail = re.match(r"[,.;:!?]+", text[match.end() :])
            if tail and inner:
                inner[-1] += tail.group(0)
            places = [(turn, len(words) + i) for i in range(len(inner))]
            words.extend(inner)
            position = match.end() + (len(tail.group(0)) if tail else 0)
            keep, kind, join = match.group(1) == "~", match.group(2), match.group(3)
            if join and (kind, join) in joined:
                joined[kind, join].words.extend(places)
                joined[kind, join].text += " … " + " ".join(inner)
                continue
            item = Item(kind, places, keep, " ".join(inner))
            items.append(item)
            if join:
                joined[kind, join] = item
        words.extend(text[position:].split())
        turns.append((SPEAKERS[speaker.strip()], words))
    return Case(name, turns, items)


def utterances(case: Case) -> list[Utterance]:
    """The turns with a time for every word (0.3 s words, 0.05 s apart, 0.5 s between turns)."""
    result, clock = [], 0.0
    for speaker, pieces in case.turns:
        words = []
        for piece in pieces:
            words.append(Word(piece, round(clock, 3), round(clock + 0.3, 3)))
            clock += 0.35
        result.append(Utterance(speaker, words[0].start, words[-1].end, " ".join(pieces), words=words))
        clock += 0.5
    return result


@dataclass
class Outcome:
    case: Case
    tagged: dict[tuple[int, int], str]  # (turn, word) -> the tag it got
    findings: list[tuple[str, set[tuple[int, int]]]]  # each span: its tag and the words it hid
    redacted: list[str]


def run(case: Case) -> Outcome:
    source = utterances(case)
    redacted, found = redact(source)
    tagged: dict[tuple[int, int], str] = {}
    for turn, (before, after) in enumerate(zip(source, redacted, strict=True)):
        for out in after.words:
            match = re.match(r"\[([A-Z_]+)\]", out.text)
            if not match:
                continue
            for index, word in enumerate(before.words):
                if word.start >= out.start - 1e-6 and word.end <= out.end + 1e-6:
                    tagged[turn, index] = match.group(1)
    findings = []
    for span in found.spans:
        hidden = {
            (turn, index)
            for turn, utterance in enumerate(source)
            for index, word in enumerate(utterance.words)
            if (turn, index) in tagged
            and tagged[turn, index] == span.kind
            and span.start - 1e-6 <= (word.start + word.end) / 2 <= span.end + 1e-6
        }
        findings.append((span.kind, hidden))
    return Outcome(case, tagged, findings, [u.text for u in redacted])


@dataclass
class Scores:
    items: Counter = field(default_factory=Counter)  # tag -> items
    found: Counter = field(default_factory=Counter)  # tag -> items wholly given that tag
    leaked: Counter = field(default_factory=Counter)  # tag -> items with a word left readable
    findings: Counter = field(default_factory=Counter)  # tag -> spans with that tag
    right: Counter = field(default_factory=Counter)  # tag -> spans inside an item of that tag
    sensitive: Counter = field(default_factory=Counter)  # tag -> spans inside any sensitive item
    kept: Counter = field(default_factory=Counter)  # must-stay kind -> items
    false: Counter = field(default_factory=Counter)  # must-stay kind -> items with a word redacted
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        case = outcome.case
        where = f"{case.name}: " + " | ".join(outcome.redacted)
        owner: dict[tuple[int, int], Item] = {}
        for item in case.items:
            for place in item.words:
                owner[place] = item
            if item.keep:
                self.kept[item.kind] += 1
                hit = [outcome.tagged[p] for p in item.words if p in outcome.tagged]
                if hit:
                    self.false[item.kind] += 1
                    self.problems.append(f"{item.kind} {item.text!r} redacted as {hit[0]}  ({where})")
                continue
            self.items[item.kind] += 1
            tags = [outcome.tagged.get(p) for p in item.words]
            if None in tags:
                self.leaked[item.kind] += 1
                self.problems.append(f"LEAK {item.kind} {item.text!r}  ({where})")
            elif all(t == item.kind for t in tags):
                self.found[item.kind] += 1
            else:
                self.problems.append(f"{item.kind} {item.text!r} tagged {sorted(set(tags))}  ({where})")
        for kind, hidden in outcome.findings:
            self.findings[kind] += 1
            owners = [owner.get(p) for p in hidden]
            if owners and all(o is not None and not o.keep for o in owners):
                self.sensitive[kind] += 1
                if all(o.kind == kind for o in owners):
                    self.right[kind] += 1
                    continue
            if not owners or any(o is None or o.keep for o in owners):
                words = " ".join(case.turns[t][1][i] for t, i in sorted(hidden))
                self.problems.append(f"FALSE {kind} over {words!r}  ({where})")

    @property
    def precision(self) -> float:
        return sum(self.right.values()) / max(1, sum(self.findings.values()))

    @property
    def recall(self) -> float:
        return sum(self.found.values()) / max(1, sum(self.items.values()))

    @property
    def leaks(self) -> int:
        return sum(self.leaked.values())

    def table(self) -> list[str]:
        lines = [f"  {'tag':<10} {'items':>5} {'recall':>7} {'leaked':>6} {'found':>5} {'precision':>9}"]
        for tag in TAGS:
            items, findings = self.items[tag], self.findings[tag]
            recall = f"{self.found[tag] / items:7.1%}" if items else "      -"
            precision = f"{self.right[tag] / findings:9.1%}" if findings else "        -"
            lines.append(f"  {tag:<10} {items:>5} {recall} {self.leaked[tag]:>6} {findings:>5} {precision}")
        lines.append(
            f"  {'all':<10} {sum(self.items.values()):>5} {self.recall:7.1%} {self.leaks:>6} "
            f"{sum(self.findings.values()):>5} {self.precision:9.1%}"
        )
        kept = ", ".join(f"{kind} {self.false[kind]}/{self.kept[kind]}" for kind in sorted(self.kept))
        lines.append(f"  must stay readable, redacted/items: {kept}")
        return lines


def evaluate(cases: dict[str, list[str]]) -> Scores:
    scores = Scores()
    for name, lines in cases.items():
        scores.add(run(parse(name, lines)))
    return scores


def by_case(cases: dict[str, list[str]]) -> dict[str, Scores]:
    result: dict[str, Scores] = defaultdict(Scores)
    for name, lines in cases.items():
        result[name].add(run(parse(name, lines)))
    return result
