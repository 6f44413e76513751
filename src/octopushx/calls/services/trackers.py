"""Trackers: named sets of words and phrases that managers listen for, and where calls said them.

A tracker's phrases are matched against each call's current transcript lines (``Utterance``
rows: the redacted text) and each match is stored as a ``TrackerHit``. What counts as a match
("simple variants"):

- case does not matter, and a phrase matches whole words only (``cancel`` is not found in
  ``cancellation``, ``sue`` not in ``pursue``);
- every word of three letters or more also matches its plain English inflections: plural and
  possessive (``-s``, ``-es``, ``-ies``, ``'s``, ``s'``), past (``-ed``, ``-d``, ``-ied``, a doubled
  last consonant as in ``cancelled``) and ``-ing`` (``cancelling``, ``pricing`` for ``price``); a
  phrase word that is itself inflected (``prices``, ``cancelled``) matches from its stem the same way;
- apostrophes may be straight or curly (``don't`` = ``don’t``);
- the words of a multi-word phrase may be separated by any whitespace, a hyphen or a comma
  (``sign up`` finds ``sign-up``).

``side`` limits a tracker to the agent's or the customer's lines; calls whose speakers are not
known as agent and customer (``speaker1``, ``speaker2``) only get hits from trackers on either side.
A hit's ``start`` is the moment within its line where the phrase begins, estimated from the
phrase's place in the line's text (lines carry no word times), one second early so playback
starts just before it, never before the line.

Creating a tracker, or changing its phrases, side or active state, raises its ``revision`` and
starts a background job (``calls.trackers.evaluate``) that re-evaluates every analysed call of
the organisation from the stored transcripts, in batches, with progress; nothing is transcribed
again. A new analysis evaluates every active tracker as it is saved (``evaluate_call``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.http import Http404
from django.utils import timezone

from octopushx.calls.models import Call, CallStatus, Tracker, TrackerHit, TrackerSide, Utterance
from octopushx.core import audit, events, jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job
from octopushx.tenancy.roles import Perm

# Who shapes what the team is listened for: owners, admins and managers (not agents, not auditors).
MANAGE = Perm.DELETE
JOB_KIND = "calls.trackers.evaluate"
BATCH = 200
MAX_PHRASES = 100
MAX_PHRASE_LENGTH = 100
MAX_PHRASE_WORDS = 8
HIT_LEAD_SECONDS = 1.0

# The trackers every organisation starts with (managers change or delete them like any other).
DEFAULT_TRACKERS: list[dict[str, Any]] = [
    {
        "name": "Competitors",
        "description": "Another provider is mentioned: the customer compares or is being courted.",
        "phrases": ["competitor", "switch provider", "other provider", "another provider", "better deal",
                    "cheaper elsewhere", "better offer", "someone else", "your rivals"],
        "side": TrackerSide.CUSTOMER,
    },
    {
        "name": "Cancellation intent",
        "description": "The customer talks about leaving.",
        "phrases": ["cancel", "cancellation", "close my account", "end my contract", "terminate",
                    "stop my subscription", "leave", "switch to", "not renew", "unsubscribe"],
        "side": TrackerSide.CUSTOMER,
    },
    {
        "name": "Pricing",
        "description": "Price, cost and discounts come up, on either side.",
        "phrases": ["price", "cost", "discount", "expensive", "cheap", "invoice", "fee", "charge",
                    "how much", "quote", "refund"],
        "side": TrackerSide.ANY,
    },
    {
        "name": "Complaint",
        "description": "The customer is unhappy with the service.",
        "phrases": ["complaint", "complain", "not happy", "unhappy", "disappointed", "unacceptable",
                    "terrible", "frustrated", "ridiculous", "speak to a manager", "escalate"],
        "side": TrackerSide.CUSTOMER,
    },
    {
        "name": "Legal threat",
        "description": "The customer mentions lawyers, courts or regulators.",
        "phrases": ["lawyer", "solicitor", "attorney", "legal action", "sue", "court", "ombudsman",
                    "regulator", "small claims", "trading standards"],
        "side": TrackerSide.CUSTOMER,
    },
]  # fmt: skip


# --- matching (pure: plain values in, plain values out) -----------------------------------

APOSTROPHES = "'’‘`"
_APOSTROPHE = "['’‘`]"
_SEPARATOR = r"[\s,\-–]+"
_WORD = re.compile(r"[^\s,\-–]+")
# Short function words stay as they are: "a" is not "as", "to" is not "toed".
_PLAIN = {"the", "and", "for", "you", "your", "our", "not", "but", "are", "was", "has", "had", "can", "her", "his"}
_VOWELS = set("aeiouy")


def _stems(word: str) -> set[str]:
    """The forms a phrase word may come from: itself, and its stem when it is inflected."""
    stems = {word}
    if len(word) > 4 and word.endswith("ies"):
        stems.add(word[:-3] + "y")
    if len(word) > 4 and word.endswith("ied"):
        stems.add(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        stems.add(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        stems.add(word[:-1])
    if len(word) > 4 and word.endswith("ed"):
        stems.update({word[:-2], word[:-1]})
        if len(word) > 5 and word[-3] == word[-4]:
            stems.add(word[:-3])
    if len(word) > 5 and word.endswith("ing"):
        stems.update({word[:-3], word[:-3] + "e"})
        if word[-4] == word[-5]:
            stems.add(word[:-4])
    return {s for s in stems if len(s) >= 2}


def variants(word: str) -> set[str]:
    """Every spelling of one phrase word that matches (lower case; apostrophes straight)."""
    word = word.lower()
    for mark in APOSTROPHES[1:]:
        word = word.replace(mark, "'")
    if len(word) < 3 or word in _PLAIN or not word.replace("'", "").isalpha():
        return {word}
    forms: set[str] = set()
    for stem in _stems(word):
        forms.update({stem, stem + "s", stem + "es", stem + "'s", stem + "s'", stem + "ed", stem + "ing"})
        if stem.endswith("e"):
            forms.update({stem + "d", stem[:-1] + "ing"})
        if stem.endswith("y") and len(stem) > 2 and stem[-2] not in _VOWELS:
            forms.update({stem[:-1] + "ies", stem[:-1] + "ied"})
        if len(stem) >= 3 and stem[-1] not in _VOWELS | {"w", "x"} and stem[-2] in _VOWELS:
            forms.update({stem + stem[-1] + "ed", stem + stem[-1] + "ing"})
    return forms


def _word_pattern(word: str) -> str:
    forms = sorted(variants(word), key=lambda form: (-len(form), form))
    return "(?:" + "|".join(re.escape(form).replace("'", _APOSTROPHE) for form in forms) + ")"


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The compiled matcher of one phrase (see the module's docstring for the variants)."""
    words = _WORD.findall(phrase)
    body = _SEPARATOR.join(_word_pattern(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    """One transcript line as the matcher needs it."""

    position: int
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Match:
    phrase: str
    position: int
    speaker: str
    start: float
    offset: int  # where in the line's text


class Matcher:
    """A tracker's phrases compiled once, applied to many calls."""

    def __init__(self, phrases: Sequence[str], side: str = TrackerSide.ANY):
        self.side = side
        self.patterns = [(phrase, phrase_pattern(phrase)) for phrase in phrases if phrase.strip()]

    def applies_to(self, speaker: str) -> bool:
        return self.side == TrackerSide.ANY or speaker == self.side

    def find(self, lines: Iterable[Line]) -> list[Match]:
        """Every place a phrase was said, in transcript order; where phrases overlap the longer wins."""
        found: list[Match] = []
        for line in lines:
            if not self.applies_to(line.speaker) or not line.text:
                continue
            spans: list[tuple[int, int, str]] = []
            for phrase, pattern in self.patterns:
                spans.extend((m.start(), m.end(), phrase) for m in pattern.finditer(line.text))
            taken: list[tuple[int, int]] = []
            for begin, end, phrase in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
                if any(begin < other_end and end > other_begin for other_begin, other_end in taken):
                    continue
                taken.append((begin, end))
                found.append(Match(phrase, line.position, line.speaker, _moment(line, begin), begin))
        return found


def highlight(text: str, phrases: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_hit) parts where the phrases (with their variants) are."""
    spans = Matcher(phrases).find([Line(0, "unknown", 0.0, 0.0, text)])
    parts: list[tuple[str, bool]] = []
    position = 0
    patterns = dict(Matcher(phrases).patterns)
    for match in spans:
        found = patterns[match.phrase].match(text, match.offset)
        if found is None:
            continue
        if match.offset > position:
            parts.append((text[position : match.offset], False))
        parts.append((found.group(), True))
        position = found.end()
    if position < len(text):
        parts.append((text[position:], False))
    return parts


def _moment(line: Line, offset: int) -> float:
    length = max(len(line.text), 1)
    estimate = line.start + (line.end - line.start) * offset / length
    return round(max(line.start, estimate - HIT_LEAD_SECONDS), 2)


# --- validation and changes -----------------------------------------------------------------


def tracker_snapshot(tracker: Tracker) -> dict[str, Any]:
    return {
        "name": tracker.name,
        "description": tracker.description,
        "phrases": list(tracker.phrases),
        "side": tracker.side,
        "is_active": tracker.is_active,
    }


def _clean_phrases(value: Any, errors: dict[str, list[str]]) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        errors["phrases"] = ["A list of words or phrases"]
        return []
    phrases: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            errors.setdefault("phrases", []).append(f"Item {index + 1} is not text")
            continue
        phrase = " ".join(item.split())
        if not phrase:
            continue
        if len(phrase) > MAX_PHRASE_LENGTH:
            errors.setdefault("phrases", []).append(f"“{phrase[:30]}…” is longer than {MAX_PHRASE_LENGTH} characters")
            continue
        if len(_WORD.findall(phrase)) > MAX_PHRASE_WORDS:
            errors.setdefault("phrases", []).append(f"“{phrase[:30]}…” has more than {MAX_PHRASE_WORDS} words")
            continue
        if not any(ch.isalnum() for ch in phrase):
            errors.setdefault("phrases", []).append(f"“{phrase}” has no letters or digits")
            continue
        if phrase.lower() not in seen:
            seen.add(phrase.lower())
            phrases.append(phrase)
    if "phrases" not in errors and not phrases:
        errors["phrases"] = ["Give at least one word or phrase"]
    if len(phrases) > MAX_PHRASES:
        errors["phrases"] = [f"At most {MAX_PHRASES} phrases"]
    return phrases


def _clean(tenant, data: dict[str, Any], tracker: Tracker | None) -> dict[str, Any]:
    """The fields of ``data`` that are given, checked; ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    creating = tracker is None
    if creating or "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = ["A tracker needs a name"]
        elif len(name) > 120:
            errors["name"] = ["At most 120 characters"]
        else:
            taken = Tracker.objects.for_tenant(tenant).filter(name__iexact=name)
            if tracker is not None:
                taken = taken.exclude(pk=tracker.pk)
            if taken.exists():
                errors["name"] = [f"There is already a tracker named “{name}”"]
        clean["name"] = name
    if "description" in data:
        description = " ".join(str(data.get("description") or "").split())
        if len(description) > 300:
            errors["description"] = ["At most 300 characters"]
        clean["description"] = description
    if creating or "phrases" in data:
        clean["phrases"] = _clean_phrases(data.get("phrases"), errors)
    if "side" in data or creating:
        side = data.get("side") or TrackerSide.ANY
        if side not in TrackerSide.values:
            errors["side"] = ["any, agent or customer"]
        clean["side"] = side
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = ["true or false"]
        clean["is_active"] = data["is_active"]
    if errors:
        raise ValidationError(errors)
    return clean


MATCHING_FIELDS = ("phrases", "side", "is_active")


def create_tracker(tenant, actor: Actor, data: dict[str, Any]) -> Tracker:
    """Create a tracker and start re-evaluating the organisation's past calls with it."""
    clean = _clean(tenant, data, None)
    try:
        with transaction.atomic():
            tracker = Tracker.objects.create(
                tenant=tenant,
                created_by=actor.user if actor and actor.user else None,
                is_active=clean.pop("is_active", True),
                **clean,
            )
            audit.record(
                tenant, actor, "tracker.created", obj=tracker, changes=audit.diff({}, tracker_snapshot(tracker))
            )
            events.emit(tenant, "tracker.created", {"tracker_id": str(tracker.pk)})
            start_evaluation(tracker)
    except IntegrityError:  # a concurrent create with the same name
        raise ValidationError({"name": [f"There is already a tracker named “{clean['name']}”"]}) from None
    return tracker


def update_tracker(tenant, actor: Actor, tracker: Tracker, data: dict[str, Any]) -> Tracker:
    """Change a tracker; a change to what it matches re-evaluates past calls (a new revision)."""
    clean = _clean(tenant, data, tracker)
    old = tracker_snapshot(tracker)
    for field, value in clean.items():
        setattr(tracker, field, value)
    changes = audit.diff(old, tracker_snapshot(tracker))
    if not changes:
        return tracker
    rematch = any(field in changes for field in MATCHING_FIELDS)
    try:
        with transaction.atomic():
            if rematch:
                tracker.revision += 1
            tracker.save()
            audit.record(tenant, actor, "tracker.updated", obj=tracker, changes=changes)
            events.emit(tenant, "tracker.updated", {"tracker_id": str(tracker.pk), "fields": sorted(changes)})
            if rematch:
                start_evaluation(tracker)
    except IntegrityError:
        raise ValidationError({"name": [f"There is already a tracker named “{tracker.name}”"]}) from None
    return tracker


def delete_tracker(tenant, actor: Actor, tracker: Tracker) -> None:
    """Delete a tracker with its hits (a running re-evaluation finds it gone and stops)."""
    with transaction.atomic():
        audit.record(tenant, actor, "tracker.deleted", obj=tracker, changes=audit.diff(tracker_snapshot(tracker), {}))
        events.emit(tenant, "tracker.deleted", {"tracker_id": str(tracker.pk)})
        TrackerHit.objects.for_tenant(tenant).filter(tracker=tracker).delete()
        tracker.delete()


def ensure_default_trackers(tenant, actor: Actor | None = None) -> list[Tracker]:
    """Create the shipped trackers the organisation does not have by name (idempotent)."""
    actor = actor or Actor.system("calls")
    have = {name.lower() for name in Tracker.objects.for_tenant(tenant).values_list("name", flat=True)}
    return [create_tracker(tenant, actor, dict(spec)) for spec in DEFAULT_TRACKERS if spec["name"].lower() not in have]


def get_tracker(tenant, tracker_id) -> Tracker:
    """One of the organisation's trackers; 404 for another organisation's id or a malformed one."""
    try:
        pk = uuid.UUID(str(tracker_id))
    except ValueError:
        raise Http404("No tracker with that id") from None
    return Tracker.objects.get_for_tenant(tenant, pk)


# --- evaluation -------------------------------------------------------------------------------


def _lines(rows: Iterable[Utterance]) -> list[Line]:
    return [Line(u.position, u.speaker, u.start, u.end, u.text) for u in rows]


def _hits(tenant, call_id, tracker: Tracker, matches: list[Match]) -> list[TrackerHit]:
    return [
        TrackerHit(
            tenant=tenant,
            call_id=call_id,
            tracker=tracker,
            phrase=m.phrase[:200],
            speaker=m.speaker,
            start=m.start,
            position=m.position,
        )
        for m in matches
    ]


def evaluate_call(call: Call, trackers: Sequence[Tracker] | None = None) -> int:
    """Replace the call's hits with those of its current transcript, for every active tracker
    (or the given ones); an inactive tracker's hits are removed. Returns the number of hits."""
    tenant = call.tenant
    if trackers is None:
        trackers = list(Tracker.objects.for_tenant(tenant))
    if not trackers:
        return 0
    rows = Utterance.objects.filter(call=call, result_id=call.current_id) if call.current_id else []
    lines = _lines(rows)
    created: list[TrackerHit] = []
    for tracker in trackers:
        if tracker.is_active:
            created.extend(_hits(tenant, call.pk, tracker, Matcher(tracker.phrases, tracker.side).find(lines)))
    with transaction.atomic():
        TrackerHit.objects.filter(tenant=tenant, call=call, tracker__in=trackers).delete()
        TrackerHit.objects.bulk_create(created)
    return len(created)


def evaluate_calls(tracker: Tracker, call_ids: Sequence) -> int:
    """Replace ``tracker``'s hits in these calls (one batch of a re-evaluation)."""
    tenant = tracker.tenant
    matcher = Matcher(tracker.phrases, tracker.side) if tracker.is_active else None
    created: list[TrackerHit] = []
    if matcher is not None:
        rows = (
            Utterance.objects.filter(tenant=tenant, call_id__in=call_ids, result_id=F("call__current_id"))
            .only("call_id", "position", "speaker", "start", "end", "text")
            .order_by("call_id", "position")
        )
        by_call: dict[Any, list[Line]] = {}
        for row in rows:
            by_call.setdefault(row.call_id, []).append(Line(row.position, row.speaker, row.start, row.end, row.text))
        for call_id, lines in by_call.items():
            created.extend(_hits(tenant, call_id, tracker, matcher.find(lines)))
    with transaction.atomic():
        TrackerHit.objects.filter(tenant=tenant, tracker=tracker, call_id__in=call_ids).delete()
        TrackerHit.objects.bulk_create(created)
    return len(created)


def _dedupe_key(tracker: Tracker) -> str:
    return f"{JOB_KIND}:{tracker.pk}:{tracker.revision}"


def start_evaluation(tracker: Tracker) -> Job | None:
    """Queue the re-evaluation of the organisation's analysed calls for this revision of the tracker
    (none when the organisation has no analysed call yet: a new organisation's shipped trackers)."""
    if not Call.objects.for_tenant(tracker.tenant).filter(status=CallStatus.ANALYSED).exists():
        return None
    return jobs.submit(
        JOB_KIND,
        tenant=tracker.tenant,
        payload={"tracker_id": str(tracker.pk), "revision": tracker.revision},
        dedupe_key=_dedupe_key(tracker),
    )


def evaluation_job(tracker: Tracker) -> Job | None:
    """The re-evaluation job of the tracker's current revision, if there is one."""
    return Job.objects.filter(tenant=tracker.tenant, dedupe_key=_dedupe_key(tracker)).first()


def run_evaluation(job: Job) -> dict[str, Any]:
    """The job: every analysed call of the organisation, ``BATCH`` at a time, oldest id first.

    Idempotent (each batch replaces the tracker's hits in its calls); a newer revision of the
    tracker supersedes the run, a deleted tracker ends it.
    """
    tenant = job.tenant
    tracker = Tracker.objects.for_tenant(tenant).filter(pk=job.payload.get("tracker_id")).first()
    if tracker is None:
        return {"skipped": "the tracker was deleted"}
    revision = int(job.payload.get("revision") or 0)
    if tracker.revision != revision:
        return {"skipped": "superseded by a newer change", "revision": revision}
    calls = Call.objects.for_tenant(tenant).filter(status=CallStatus.ANALYSED, current__isnull=False)
    total = calls.count()
    done = hits = 0
    last = None
    while True:
        batch = calls.order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        ids = list(batch.values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        current = Tracker.objects.filter(pk=tracker.pk).values_list("revision", flat=True).first()
        if current != revision:
            return {"stopped": "the tracker changed or was deleted meanwhile", "calls": done}
        hits += evaluate_calls(tracker, ids)
        done += len(ids)
        last = ids[-1]
        jobs.heartbeat(job, done / total if total else 1.0)
    return {"tracker_id": str(tracker.pk), "revision": revision, "calls": done, "hits": hits}


# --- reading ----------------------------------------------------------------------------------


def trackers_with_counts(tenant, calls=None, *, days: int = 30):
    """The organisation's trackers with ``recent_hits`` and ``recent_calls`` over the last ``days``,
    counted in ``calls`` (the calls the member may see) when given."""
    since = timezone.now() - timedelta(days=days)
    recent = Q(hits__call__created_at__gte=since)
    if calls is not None:
        recent &= Q(hits__call_id__in=calls.values("pk"))
    return Tracker.objects.for_tenant(tenant).annotate(
        recent_hits=Count("hits", filter=recent),
        recent_calls=Count("hits__call", filter=recent, distinct=True),
    )


def call_hits(call: Call) -> list[dict[str, Any]]:
    """``insights.trackers`` of a call: its hits ordered by start."""
    hits = TrackerHit.objects.filter(tenant_id=call.tenant_id, call=call).select_related("tracker")
    return [
        {
            "tracker": hit.tracker.name,
            "tracker_id": str(hit.tracker_id),
            "phrase": hit.phrase,
            "speaker": hit.speaker,
            "start": hit.start,
        }
        for hit in hits.order_by("start", "position", "tracker__name")
    ]


def calls_with_tracker(tenant, tracker_id) -> Any:
    """Ids of the calls with a hit of this tracker (a subquery for list filters)."""
    return TrackerHit.objects.filter(tenant=tenant, tracker_id=tracker_id).values("call_id")
