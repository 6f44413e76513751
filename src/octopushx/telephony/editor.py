"""The block editor's form: a flow definition as flat form fields (``blocks-0-type``) and back.

Pure: no ORM, no settings. ``read`` turns a posted form into a definition (values as typed, so the
checks in ``flows`` name what is wrong and the form shows it again as it was), ``apply`` performs
the editor's structural actions (add, remove, move, set the start), and ``cards`` lays the blocks
out with each field's messages. Saving goes through ``services`` like every other change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from octopushx.telephony import display, flows

PREFIX = "blocks"
# Fields every block type has on its card, beyond id, type and label (read ``flows`` for their rules).
FIELDS: dict[str, tuple[str, ...]] = {
    "hours": ("schedule", "holidays", "holiday_subdivision", "closed_dates", "open", "closed"),
    "greeting": ("say", "recording", "next"),
    "menu": ("say", "options", "timeout_s", "repeat", "no_input", "invalid_say"),
    "ring_group": ("members", "team", "strategy", "timeout_s", "member_timeout_s", "next"),
    "queue": ("say", "members", "team", "hold_music", "max_wait_s", "next"),
    "voicemail": ("say", "recording", "max_length_s", "transcribe", "notify_members", "notify_team", "create_task"),
    "forward": ("number", "timeout_s", "next"),
    "hangup": ("say",),
}
LISTS = {"members", "notify_members"}
CHECKBOXES = {"transcribe", "create_task"}
OPTIONAL = {"holidays", "holiday_subdivision", "recording", "team", "notify_team"}  # empty = none
TARGETS = {"open", "closed", "next", "no_input"}
OPTION_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
DAY_LABELS = dict(
    zip(flows.DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)

# What a new block of each type starts with: sensible values, exits left for the admin to choose.
NEW_BLOCKS: dict[str, dict] = {
    "hours": {"schedule": {d: ["09:00-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")}, "holidays": None,
              "open": "", "closed": ""},
    "greeting": {"say": "Thank you for calling.", "next": ""},
    "menu": {"say": "Press 1 for sales or 2 for support.", "options": {}, "timeout_s": 8, "repeat": 2, "no_input": ""},
    "ring_group": {"members": [], "team": None, "strategy": "simultaneous", "timeout_s": 30, "member_timeout_s": 15,
                   "next": ""},
    "queue": {"say": "", "members": [], "team": None, "hold_music": "https://", "max_wait_s": 300, "next": ""},
    "voicemail": {"say": "Please leave a message after the tone.", "notify_members": [], "notify_team": None},
    "forward": {"number": "", "timeout_s": 30, "next": None},
    "hangup": {"say": "Thank you for calling. Goodbye."},
}  # fmt: skip


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\s]+", text or "") if part.strip()]


def _read_block(data: Mapping, index: int, getlist) -> tuple[dict, list[tuple[str, str]]]:
    """One block from ``blocks-{index}-…`` fields, and its menu options as typed (key, target)."""
    key = f"{PREFIX}-{index}-"
    kind = data.get(key + "type", "")
    block: dict = {"id": data.get(key + "id", "").strip(), "type": kind}
    label = data.get(key + "label", "").strip()
    if label:
        block["label"] = label
    options: list[tuple[str, str]] = []
    for name in FIELDS.get(kind, ()):
        if name == "schedule":
            block["schedule"] = {d: _split(data.get(f"{key}schedule-{d}", "")) for d in flows.DAYS}
            block["schedule"] = {d: ranges for d, ranges in block["schedule"].items() if ranges}
        elif name == "closed_dates":
            block["closed_dates"] = _split(data.get(key + "closed_dates", ""))
        elif name == "options":
            count = _count(data.get(key + "options-count"))
            for row in range(count):
                digit = data.get(f"{key}options-{row}-key", "").strip()
                target = data.get(f"{key}options-{row}-target", "").strip()
                if digit or target:
                    options.append((digit, target))
            block["options"] = dict(options)
        elif name in LISTS:
            block[name] = [v.strip() for v in getlist(key + name) if v.strip()]
        elif name in CHECKBOXES:
            block[name] = data.get(key + name) in ("on", "true", "1")
        else:
            value = data.get(key + name, "").strip()
            if name in OPTIONAL or (name == "next" and kind == "forward"):
                block[name] = value or None
            elif name.endswith("_s") or name == "repeat":
                block[name] = int(value) if value.isdigit() else value
            else:
                block[name] = value
    if kind == "greeting" and block.get("recording"):
        block["say"] = ""  # the recording chosen plays instead of the text
    return block, options


def _count(value) -> int:
    try:
        return max(0, min(int(value or 0), 100))
    except (TypeError, ValueError):
        return 0


@dataclass
class Posted:
    """What the editor form holds: the definition as typed, and what only the form can get wrong."""

    definition: dict
    form_errors: dict[str, list[str]] = field(default_factory=dict)


def read(data: Mapping, getlist=None) -> Posted:
    """The definition the posted editor describes. A renamed block's exits are renamed with it."""
    getlist = getlist or (lambda name: data.get(name, []) if isinstance(data.get(name), list) else [])
    definition: dict = {
        "name": data.get("name", "").strip(),
        "timezone": data.get("timezone", "").strip() or "UTC",
        "language": data.get("language", "").strip() or "en-GB",
        "start": data.get("start", "").strip(),
        "recording": {
            "enabled": data.get("recording_enabled") in ("on", "true", "1"),
            "disclosure": data.get("recording_disclosure", "").strip(),
        },
        "blocks": [],
    }
    form_errors: dict[str, list[str]] = {}
    renames: dict[str, str] = {}
    for index in range(_count(data.get(f"{PREFIX}-count"))):
        block, options = _read_block(data, index, getlist)
        was = data.get(f"{PREFIX}-{index}-was", "").strip()
        if was and block["id"] and was != block["id"]:
            renames[was] = block["id"]
        digits = [digit for digit, _ in options]
        for digit in sorted({d for d in digits if digits.count(d) > 1}):
            form_errors.setdefault(f"blocks.{block['id']}.options", []).append(f"Key {digit} is used twice")
        for digit, target in options:
            if not digit:
                form_errors.setdefault(f"blocks.{block['id']}.options", []).append(
                    f"Choose the key that goes to {target!r}"
                )
        definition["blocks"].append(block)
    if renames:
        _rename(definition, renames)
    return Posted(definition, form_errors)


def _rename(definition: dict, renames: dict[str, str]) -> None:
    """Point every exit (and the start) that named a renamed block at its new id."""
    if definition.get("start") in renames:
        definition["start"] = renames[definition["start"]]
    for block in definition["blocks"]:
        for name in TARGETS:
            if block.get(name) in renames:
                block[name] = renames[block[name]]
        if isinstance(block.get("options"), dict):
            block["options"] = {k: renames.get(v, v) for k, v in block["options"].items()}


def _free_id(definition: dict, kind: str) -> str:
    taken = {b.get("id") for b in definition["blocks"]}
    base = kind.replace("_", "-")
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def apply(definition: dict, action: str, new_type: str = "") -> str | None:
    """Perform an editor action on ``definition`` in place; the id of the block to show, if any.

    Actions: ``add`` (a block of ``new_type``), ``remove:N``, ``up:N``, ``down:N``, ``start:N``.
    Exits that pointed at a removed block stay, so the checks name each one for the admin to fix.
    """
    blocks = definition["blocks"]
    verb, _, where = action.partition(":")
    if verb == "add":
        if new_type not in NEW_BLOCKS:
            return None
        block = {"id": _free_id(definition, new_type), "type": new_type, **_copy(NEW_BLOCKS[new_type])}
        blocks.append(block)
        if not definition.get("start"):
            definition["start"] = block["id"]
        return block["id"]
    index = _count(where) if where.isdigit() else -1
    if not 0 <= index < len(blocks):
        return None
    if verb == "remove":
        blocks.pop(index)
        return None
    if verb == "up" and index > 0:
        blocks[index - 1], blocks[index] = blocks[index], blocks[index - 1]
    elif verb == "down" and index < len(blocks) - 1:
        blocks[index + 1], blocks[index] = blocks[index], blocks[index + 1]
    elif verb == "start":
        definition["start"] = blocks[index].get("id", "")
    return blocks[index].get("id") if verb != "up" and verb != "down" else None


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --- laying the blocks out ------------------------------------------------------------------------


@dataclass
class Card:
    """One block on the editor: its values as the form shows them and the messages of each field."""

    index: int
    id: str
    type: str
    title: str
    icon: str
    block: dict
    start: bool
    errors: dict[str, list[str]] = field(default_factory=dict)  # field ("" = the block) -> messages
    warnings: dict[str, list[str]] = field(default_factory=dict)
    first: bool = False
    last: bool = False
    people: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)  # field -> (email, name, chosen)
    teams: list[str] = field(default_factory=list)

    @property
    def template(self) -> str:
        """The fields of the block's type; none for a type the editor does not know (a tampered form)."""
        return f"telephony/editor/_{self.type}.html" if self.type in FIELDS else ""

    @property
    def schedule(self) -> list[tuple[str, str, str]]:
        ranges = self.block.get("schedule") or {}
        return [(day, DAY_LABELS[day], ", ".join(ranges.get(day) or [])) for day in flows.DAYS]

    @property
    def options(self) -> list[tuple[int, str, str]]:
        """The menu's options as rows, and one empty row to add another."""
        rows = list((self.block.get("options") or {}).items())
        return [(i, key, target) for i, (key, target) in enumerate([*rows, ("", "")])]

    @property
    def closed_dates(self) -> str:
        return ", ".join(str(d) for d in self.block.get("closed_dates") or [])

    @property
    def has_errors(self) -> bool:
        return any(self.errors.values())

    @property
    def messages(self) -> list[str]:
        return [m for ms in self.errors.values() for m in ms]


def _field_of(rest: str) -> tuple[str, str]:
    """``options.3`` → (``options``, ``Press 3: ``); ``schedule.mon`` → (``schedule``, ``Mon: ``)."""
    name, _, sub = rest.partition(".")
    if name == "options" and sub:
        return "options", f"Press {sub}: "
    if name == "schedule" and sub in DAY_LABELS:
        return "schedule", f"{DAY_LABELS[sub]}: "
    return name, ""


def _assign(messages: dict[str, list[str]], ids: list[str]) -> tuple[dict[int, dict[str, list[str]]], dict]:
    """Messages by block index and field; the rest (name, start, time zone …) by path."""
    by_block: dict[int, dict[str, list[str]]] = {}
    rest: dict[str, list[str]] = {}
    for path, texts in messages.items():
        path = path.removeprefix("definition.")
        parts = path.split(".", 2)
        indexes = []
        if parts[0] == "blocks" and len(parts) > 1:
            ref = parts[1]
            indexes = [i for i, block_id in enumerate(ids) if block_id == ref]
            if not indexes and ref.startswith("#") and ref[1:].isdigit() and 0 < int(ref[1:]) <= len(ids):
                indexes = [int(ref[1:]) - 1]
        if not indexes:
            rest.setdefault(path, []).extend(texts)
            continue
        name, lead = _field_of(parts[2]) if len(parts) > 2 else ("", "")
        for index in indexes:
            by_block.setdefault(index, {}).setdefault(name, []).extend(lead + t for t in texts)
    return by_block, rest


FLOW_FIELDS = ("name", "timezone", "language", "start", "recording")


def _flow_messages(rest: dict[str, list[str]]) -> dict[str, list[str]]:
    """Messages about the flow's own fields by field; any other under "other" with its path."""
    found: dict[str, list[str]] = {}
    for path, texts in rest.items():
        head = path.split(".")[0]
        if head in FLOW_FIELDS:
            found.setdefault(head, []).extend(texts)
        else:
            found.setdefault("other", []).extend(
                texts if head in ("definition", "__all__") else [f"{path}: {t}" for t in texts]
            )
    return found


@dataclass
class Layout:
    cards: list[Card]
    flow_errors: dict[str, list[str]]  # name, timezone, start, recording, "other" (anything else) -> messages
    flow_warnings: dict[str, list[str]]
    error_count: int
    warning_count: int


_MODELS = {"hours": flows.HoursBlock, "greeting": flows.GreetingBlock, "menu": flows.MenuBlock,
           "ring_group": flows.RingGroupBlock, "queue": flows.QueueBlock, "voicemail": flows.VoicemailBlock,
           "forward": flows.ForwardBlock, "hangup": flows.HangupBlock}  # fmt: skip


def with_defaults(block: dict) -> dict:
    """The block with every field its type has, missing ones at their defaults, for the form to show."""
    model = _MODELS.get(block.get("type"))
    if model is None:
        return block
    filled = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        filled[name] = info.get_default(call_default_factory=True)
    return {**filled, **block}


def with_flow_defaults(definition: dict) -> dict:
    """The flow with its own fields at their defaults where missing (recording on, its disclosure)."""
    recording = {**flows.Recording().model_dump(), **(definition.get("recording") or {})}
    return {"timezone": "UTC", "language": "en-GB", **definition, "recording": recording}


def layout(definition: dict, errors: dict | None = None, warnings: dict | None = None) -> Layout:
    """The cards of ``definition`` with every message next to the block and field it names."""
    blocks = definition.get("blocks") or []
    ids = [b.get("id", "") for b in blocks]
    block_errors, rest_errors = _assign(errors or {}, ids)
    block_warnings, rest_warnings = _assign(warnings or {}, ids)
    flow_errors, flow_warnings = _flow_messages(rest_errors), _flow_messages(rest_warnings)
    cards = []
    for index, block in enumerate(blocks):
        kind = block.get("type", "")
        cards.append(
            Card(
                index=index,
                id=block.get("id", ""),
                type=kind,
                title=block.get("label") or display.TITLES.get(kind, kind),
                icon=display.ICONS.get(kind, "ti-square"),
                block=with_defaults(block),
                start=bool(block.get("id")) and block.get("id") == definition.get("start"),
                errors=block_errors.get(index, {}),
                warnings=block_warnings.get(index, {}),
                first=index == 0,
                last=index == len(blocks) - 1,
            )
        )

    def count(by_field: dict) -> int:
        return sum(len(ms) for ms in by_field.values())

    return Layout(
        cards,
        flow_errors,
        flow_warnings,
        sum(count(c.errors) for c in cards) + count(flow_errors),
        sum(count(c.warnings) for c in cards) + count(flow_warnings),
    )


def offer_people(plan: Layout, members: list[tuple[str, str]], teams: list[str]) -> None:
    """Give each card the members to tick and the teams to pick; a name the flow holds that is no
    longer in the organisation stays on offer (ticked), so its error can be read and untied."""
    for card in plan.cards:
        for name in LISTS & set(FIELDS.get(card.type, ())):
            chosen = [str(e).lower() for e in card.block.get(name) or []]
            known = {email for email, _ in members}
            rows = [(email, label, email in chosen) for email, label in members]
            rows += [(email, f"{email} (not a member)", True) for email in chosen if email not in known]
            card.people[name] = rows
        current = {card.block.get("team"), card.block.get("notify_team")} - {None, ""}
        card.teams = list(teams) + sorted(str(t) for t in current if t not in teams)


@lru_cache(maxsize=1)
def holiday_countries() -> list[tuple[str, str]]:
    """(code, name) of every country the ``holidays`` package knows, by name."""
    from holidays.registry import COUNTRIES

    pairs = {}
    for entry in COUNTRIES.values():
        name, code = entry[0], entry[1]
        if len(code) == 2 and code in flows._holiday_countries():
            pairs[code] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return sorted(pairs.items(), key=lambda pair: pair[1])
