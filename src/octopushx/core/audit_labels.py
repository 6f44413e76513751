"""How audit entries read to people: action labels, object names and changes as sentences.

The chain stores machine codes (``auth.sign_in``, uuids, ``{field: [old, new]}``); this module
turns them into "Signed in", "Contact · Amelia Baker" and "Stage changed from Proposal to Won".
Each app describes its own actions in an ``audit_labels.py`` module (autodiscovered, so core
names no app): ``labels({...})`` for action and object-type labels, ``@names("contact")`` for a
tenant-scoped id -> name lookup, ``@changes("privacy.completed")`` for an action whose changes
need their own wording. Anything not registered still reads as words, never as a code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import autodiscover_modules

from octopushx.core.audit import MASK

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
ISO_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
LONGEST_VALUE = 120

NameLookup = Callable[[Any, set[str]], dict[str, str]]
ChangeWriter = Callable[[dict[str, Any], "Names"], "list[Change] | None"]

_ACTIONS: dict[str, str] = {}
_OBJECT_TYPES: dict[str, str] = {}
_FIELDS: dict[str, str] = {"is_default": "Default", "kind": "Kind"}
_SYSTEM_ACTORS: dict[str, str] = {"system": "System", "anonymous": "Anonymous visitor"}
_NAMES: dict[str, NameLookup] = {}
_WRITERS: dict[str, ChangeWriter] = {}
_discovered = False


def labels(
    actions: dict[str, str] | None = None,
    *,
    object_types: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
    system_actors: dict[str, str] | None = None,
) -> None:
    """Register people's words for action codes, object types, changed fields and system actors."""
    _ACTIONS.update(actions or {})
    _OBJECT_TYPES.update(object_types or {})
    _FIELDS.update(fields or {})
    _SYSTEM_ACTORS.update(system_actors or {})


def names(object_type: str) -> Callable[[NameLookup], NameLookup]:
    """Register ``fn(tenant, ids) -> {id: name}`` naming records of ``object_type`` in that tenant only."""

    def register(fn: NameLookup) -> NameLookup:
        _NAMES[object_type] = fn
        return fn

    return register


def changes(action: str) -> Callable[[ChangeWriter], ChangeWriter]:
    """Register ``fn(changes, names) -> [Change]`` for an action whose changes need their own sentence."""

    def register(fn: ChangeWriter) -> ChangeWriter:
        _WRITERS[action] = fn
        return fn

    return register


def discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("audit_labels")
        _discovered = True


def humanize(code: str) -> str:
    """``merge_undone`` -> "Merge undone"; the words of a code nobody has labelled yet."""
    words = re.sub(r"[_.\-]+", " ", code).strip()
    return words[:1].upper() + words[1:] if words else ""


def action_label(action: str) -> str:
    """ "Signed in" for ``auth.sign_in``; unlabelled codes read "Contact: merge undone"."""
    discover()
    if action in _ACTIONS:
        return _ACTIONS[action]
    family, _, verb = action.partition(".")
    if not verb:
        return humanize(action)
    return f"{object_type_label(family)} {humanize(verb).lower()}"


def object_type_label(object_type: str) -> str:
    discover()
    return _OBJECT_TYPES.get(object_type) or humanize(object_type)


def field_label(name: str) -> str:
    discover()
    return _FIELDS.get(name) or humanize(name.removesuffix("_id"))


def action_families() -> list[tuple[str, str]]:
    """``[("auth.", "Sign-in and accounts"), ...]``: a label per family of registered actions."""
    discover()
    return sorted({(f"{family}.", object_type_label(family)) for family in {a.split(".")[0] for a in _ACTIONS}})


@dataclass(frozen=True)
class Change:
    """One changed field as a sentence: ``field`` (bold) followed by ``text``."""

    field: str
    text: str


class Names(dict):
    """Record names found for the ids on a page; unknown ids read as "a removed record"."""

    def name(self, value: str) -> str:
        return self.get(value, "a removed record")


def _uuids(value: Any) -> Iterable[str]:
    if isinstance(value, str) and UUID_RE.match(value):
        yield value.lower()
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _uuids(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _uuids(item)


def _shorten(text: str) -> str:
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def value_text(value: Any, found: Names) -> str:
    """A stored value in words: names for ids, Yes/No, dates, lists joined; "" when empty."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        if UUID_RE.match(value):
            return found.name(value.lower())
        if ISO_DATETIME_RE.match(value):
            moment = parse_datetime(value)
            if moment is not None:
                return _when(moment)
        return _shorten(value)
    if isinstance(value, (list, tuple)):
        parts = []
        for item in value:
            if isinstance(item, (list, tuple)) and item:
                # A row such as a stage ["Proposal", 50, "open"]: its name, then the rest in brackets.
                head, rest = value_text(item[0], found), [value_text(i, found) for i in item[1:]]
                rest = [r for r in rest if r]
                parts.append(f"{head} ({', '.join(rest)})" if rest else head)
            else:
                parts.append(value_text(item, found))
        return _shorten(", ".join(p for p in parts if p))
    if isinstance(value, dict):
        parts = [f"{field_label(k)}: {value_text(v, found)}" for k, v in value.items() if value_text(v, found)]
        return _shorten("; ".join(parts))
    return _shorten(str(value))


def _when(moment: datetime) -> str:
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, "j M Y H:i" if (moment.hour, moment.minute) != (0, 0) else "j M Y")


def change_sentences(action: str, stored: dict[str, Any], found: Names) -> list[Change]:
    """The changes of one entry as sentences, empty fields left out."""
    discover()
    if stored == {"erased": True}:
        return [Change("Personal details", "erased (data-subject request)")]
    writer = _WRITERS.get(action)
    if writer is not None:
        written = writer(stored, found)
        if written is not None:
            return written
    sentences = []
    for name, value in (stored or {}).items():
        label = field_label(name)
        if value == MASK or value == [MASK, MASK]:
            sentences.append(Change(label, "changed"))
            continue
        old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
        before, after = value_text(old, found), value_text(new, found)
        if before and after:
            sentences.append(Change(label, f"changed from {before} to {after}"))
        elif after:
            sentences.append(Change(label, f"set to {after}"))
        elif before:
            sentences.append(Change(label, f"cleared (was {before})"))
    return sentences


def find_names(tenant, ids: set[str]) -> Names:
    """Names for the given ids from every registered lookup, each limited to ``tenant``."""
    discover()
    found = Names()
    ids = {i for i in ids if UUID_RE.match(i)}
    if not ids:
        return found
    for lookup in _NAMES.values():
        found.update(lookup(tenant, set(ids)))
    return found


@dataclass
class Row:
    """An audit entry as the trail shows it."""

    entry: Any
    label: str
    code: str
    actor: str
    actor_detail: str
    is_system: bool
    object_label: str
    object_name: str
    changes: list[Change] = field(default_factory=list)


def _actor(entry, personal) -> tuple[str, str, bool]:
    """Name, second line and whether it is the system; a person's name only while not erased."""
    label = personal.actor_label if personal is not None else ""
    if entry.actor_ref.startswith("s:"):
        return _SYSTEM_ACTORS.get(label) or humanize(label) or "System", "", True
    if entry.actor_ref.startswith("w:"):  # an automation acting as itself (a Studio workflow)
        return label or "Workflow", "Octopush Studio", True
    erased = personal is None or personal.erased_at is not None
    user = entry.actor_user if entry.actor_user_id and not erased else None
    if user is not None:
        token = f" · token {entry.actor_token.name}" if entry.actor_token_id and entry.actor_token else ""
        return (user.full_name or user.email), (user.email if user.full_name else "") + token, False
    return label or "Unknown", "", False


def present(tenant, entries: Iterable[Any]) -> list[Row]:
    """Rows for a page of entries (``select_related("personal", "actor_user", "actor_token")``)."""
    entries = list(entries)
    ids: set[str] = set()
    for entry in entries:
        if entry.object_id:
            ids.add(entry.object_id.lower())
        personal = getattr(entry, "personal", None)
        if personal is not None:
            ids.update(_uuids(personal.changes))
    found = find_names(tenant, ids)
    rows = []
    for entry in entries:
        personal = getattr(entry, "personal", None)
        actor, detail, is_system = _actor(entry, personal)
        object_name = found.get(entry.object_id.lower(), "") if entry.object_id else ""
        rows.append(
            Row(
                entry=entry,
                label=action_label(entry.action),
                code=entry.action,
                actor=actor,
                actor_detail=detail,
                is_system=is_system,
                object_label=object_type_label(entry.object_type) if entry.object_type else "",
                object_name=object_name,
                changes=change_sentences(entry.action, personal.changes if personal else {}, found),
            )
        )
    return rows
