"""Call flows: the provider-neutral definition (a short list of blocks), its checks and its JSON Schema.

Pure: no ORM, no settings, no network. ``parse`` turns JSON into ``Flow``; ``validate`` answers
``(errors, warnings)``, each naming the block (``blocks.menu.options.3``); ``json_schema`` is the
document the API publishes. ``is_open`` and ``ring_order`` are the two routing rules the compiler,
the simulator and (later) the live call handler share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BLOCK_ID = r"^[a-z0-9][a-z0-9_-]{0,39}$"
RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
Strategy = Literal["simultaneous", "round_robin", "longest_idle", "fixed_order"]
VONAGE_MAX_KEY_WAIT_S = 10  # NCCO input: dtmf.timeOut is 0-10 seconds
STRATEGIES: tuple[str, ...] = ("simultaneous", "round_robin", "longest_idle", "fixed_order")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=BLOCK_ID, description="Unique in the flow: lower-case letters, digits, - and _")
    label: str = Field("", max_length=80, description="What the editor shows; the id when empty")

    def targets(self) -> dict[str, str]:
        """``{field: block id}`` for every block this one can continue to."""
        return {}


def _parse_range(text: str) -> tuple[time, time]:
    match = RANGE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time range like 09:00-17:30")
    start = time(int(match[1]), int(match[2]))
    end = time(23, 59, 59, 999999) if match[3] == "24" else time(int(match[3]), int(match[4]))
    if match[3] == "24" and match[4] != "00":
        raise ValueError(f"{text!r}: 24:00 is the latest end")
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (a range that crosses midnight is two ranges)")
    return start, end


class HoursBlock(_Block):
    """Open or closed now, by a weekly schedule in the flow's time zone, public holidays and closed dates."""

    type: Literal["hours"]
    schedule: dict[Day, list[str]] = Field(
        default_factory=dict, description='Opening ranges per weekday, e.g. {"mon": ["09:00-12:30", "13:30-17:30"]}'
    )
    holidays: str | None = Field(
        None, description="Country code (ISO 3166-1, e.g. GB) whose public holidays close the line", max_length=2
    )
    holiday_subdivision: str | None = Field(None, max_length=10, description="e.g. ENG, SCT (GB); CA (US)")
    closed_dates: list[date] = Field(default_factory=list, description="Extra closed days (company events)")
    open: str
    closed: str

    @field_validator("schedule")
    @classmethod
    def _ranges(cls, schedule: dict[str, list[str]]) -> dict[str, list[str]]:
        for ranges in schedule.values():
            for text in ranges:
                _parse_range(text)
        return schedule

    @field_validator("holidays")
    @classmethod
    def _country(cls, code: str | None) -> str | None:
        if not code:
            return None
        code = code.upper()
        if code not in _holiday_countries():
            raise ValueError(f"No public holidays known for {code!r}")
        return code

    def targets(self) -> dict[str, str]:
        return {"open": self.open, "closed": self.closed}


class GreetingBlock(_Block):
    """Plays a message: text read by text-to-speech, or an uploaded recording (its id)."""

    type: Literal["greeting"]
    say: str = Field("", max_length=1000)
    recording: str | None = Field(
        None, max_length=64, description="Id of an uploaded recording (Telephony → Recordings); plays instead of text"
    )
    next: str

    @model_validator(mode="after")
    def _one_source(self) -> GreetingBlock:
        if not self.say.strip() and not self.recording:
            raise ValueError("A greeting needs text to say or a recording")
        if self.say.strip() and self.recording:
            raise ValueError("A greeting plays text or a recording, not both")
        return self

    def targets(self) -> dict[str, str]:
        return {"next": self.next}


class MenuBlock(_Block):
    """Press 1/2/3: says the prompt, waits ``timeout_s`` for one key, repeats on silence or a wrong key."""

    type: Literal["menu"]
    say: str = Field(min_length=1, max_length=1000)
    options: dict[Annotated[str, Field(pattern=r"^[0-9*#]$")], str] = Field(description='{"1": "billing", ...}')
    timeout_s: int = Field(8, ge=2, le=30)
    repeat: int = Field(2, ge=0, le=5, description="How many more times the menu plays after no or a wrong key")
    no_input: str = Field(description="Where the call goes when the menu has played out without a valid key")
    invalid_say: str = Field("Sorry, that is not an option.", max_length=300)

    def targets(self) -> dict[str, str]:
        return {**{f"options.{key}": target for key, target in self.options.items()}, "no_input": self.no_input}


class RingGroupBlock(_Block):
    """Rings members (by e-mail) or a team, skipping anyone offline, away or already on a call."""

    type: Literal["ring_group"]
    members: list[str] = Field(default_factory=list, description="Members' e-mail addresses")
    team: str | None = Field(None, max_length=120, description="A team's name: everyone in it")
    strategy: Strategy = "simultaneous"
    timeout_s: int = Field(30, ge=5, le=300, description="How long the group rings in all before `next`")
    member_timeout_s: int = Field(15, ge=5, le=120, description="Ring time per member (one-by-one strategies)")
    next: str

    @field_validator("members")
    @classmethod
    def _emails(cls, members: list[str]) -> list[str]:
        cleaned = [m.strip().lower() for m in members]
        for member in cleaned:
            if "@" not in member:
                raise ValueError(f"{member!r} is not an e-mail address")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("A member is listed twice")
        return cleaned

    def targets(self) -> dict[str, str]:
        return {"next": self.next}


class QueueBlock(_Block):
    """Holds the caller with music until a member of the team or list answers, for at most ``max_wait_s``."""

    type: Literal["queue"]
    say: str = Field("", max_length=1000, description="Said once on entering the queue")
    members: list[str] = Field(default_factory=list)
    team: str | None = Field(None, max_length=120)
    hold_music: str = Field(pattern=r"^https://", max_length=500, description="An https URL of an audio file")
    max_wait_s: int = Field(300, ge=10, le=3600)
    next: str

    _emails = field_validator("members")(RingGroupBlock._emails.__func__)

    def targets(self) -> dict[str, str]:
        return {"next": self.next}


class VoicemailBlock(_Block):
    """Greeting, beep, a recording transcribed by Octopush X, and a task or notification for the group."""

    type: Literal["voicemail"]
    say: str = Field("", max_length=1000)
    recording: str | None = Field(
        None, max_length=64, description="Id of an uploaded recording played as the greeting, instead of the text"
    )
    max_length_s: int = Field(120, ge=10, le=600)
    transcribe: bool = True
    notify_members: list[str] = Field(default_factory=list)
    notify_team: str | None = Field(None, max_length=120)
    create_task: bool = Field(True, description="A follow-up task for the group besides the notification")

    _emails = field_validator("notify_members")(RingGroupBlock._emails.__func__)


class ForwardBlock(_Block):
    """Forwards the call to an external number (E.164)."""

    type: Literal["forward"]
    number: str
    timeout_s: int = Field(30, ge=5, le=300)
    next: str | None = Field(None, description="Where the call goes when nobody answers; hang up when empty")

    @field_validator("number")
    @classmethod
    def _e164(cls, number: str) -> str:
        return normalise_number(number)

    def targets(self) -> dict[str, str]:
        return {"next": self.next} if self.next else {}


class HangupBlock(_Block):
    """Ends the call, optionally after a last message."""

    type: Literal["hangup"]
    say: str = Field("", max_length=1000)


Block = Annotated[
    HoursBlock | GreetingBlock | MenuBlock | RingGroupBlock | QueueBlock | VoicemailBlock | ForwardBlock | HangupBlock,
    Field(discriminator="type"),
]
BLOCK_TYPES = ("hours", "greeting", "menu", "ring_group", "queue", "voicemail", "forward", "hangup")


class Recording(BaseModel):
    """Whether answered calls are recorded (for Octopush X) and what callers are told first."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    disclosure: str = Field("This call may be recorded for quality and training.", max_length=300)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    timezone: str = Field("UTC", description="IANA time zone of the schedule, e.g. Europe/London")
    language: str = Field("en-GB", pattern=r"^[a-z]{2}-[A-Z]{2}$", description="Text-to-speech language")
    start: str
    recording: Recording = Field(default_factory=Recording)
    blocks: list[Block] = Field(min_length=1, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def block(self, block_id: str):
        for block in self.blocks:
            if block.id == block_id:
                return block
        raise KeyError(block_id)

    def has(self, block_id: str) -> bool:
        return any(block.id == block_id for block in self.blocks)


class FlowInvalid(ValueError):
    """The definition does not parse or does not hold together; ``errors`` maps a path to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def normalise_number(number: str) -> str:
    """The E.164 form of a full international number, or ValueError."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{number!r} is not an international number (+44…)") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{number!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _holiday_countries() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int):
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def holiday_name(block: HoursBlock, day: date) -> str | None:
    """The public holiday (or "Closed date") that closes ``day``, if any."""
    if day in block.closed_dates:
        return "Closed date"
    if not block.holidays:
        return None
    calendar = _holidays(block.holidays, block.holiday_subdivision, day.year)
    return calendar.get(day)


@dataclass(frozen=True)
class Opening:
    open: bool
    reason: str  # "schedule", "out_of_hours", "holiday", "no_hours_today"
    detail: str


def is_open(block: HoursBlock, local: datetime) -> Opening:
    """Whether the line is open at ``local`` (a naive time in the flow's zone), and why."""
    holiday = holiday_name(block, local.date())
    if holiday:
        return Opening(False, "holiday", f"{holiday} ({local.date().isoformat()})")
    day = DAYS[local.weekday()]
    ranges = block.schedule.get(day, [])
    if not ranges:
        return Opening(False, "no_hours_today", f"Closed on {_DAY_NAMES[day]}")
    moment = local.time()
    for text in ranges:
        start, end = _parse_range(text)
        if start <= moment < end or (moment == end == time(23, 59, 59, 999999)):
            return Opening(True, "schedule", f"Open {_DAY_NAMES[day]} {text}")
    return Opening(False, "out_of_hours", f"{moment.strftime('%H:%M')} is outside {', '.join(ranges)}")


_DAY_NAMES = dict(
    zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


@dataclass(frozen=True)
class Agent:
    """A ring-group candidate as routing sees them: who, whether they can take a call, how long idle."""

    email: str
    status: str  # available, busy, away, offline
    idle_since: datetime | None = None  # the end of their last call; None = no call yet (idle longest)


def ring_order(strategy: str, agents: Sequence[Agent], rotation: int = 0) -> list[Agent]:
    """The available agents in the order the strategy rings them (all at once for ``simultaneous``).

    ``agents`` come in the group's configured order; ``rotation`` is how many calls the group has
    taken before (round robin starts one further each call).
    """
    available = [a for a in agents if a.status == "available"]
    if strategy == "round_robin" and available:
        shift = rotation % len(available)
        return available[shift:] + available[:shift]
    if strategy == "longest_idle":
        floor = datetime.min
        return sorted(available, key=lambda a: a.idle_since.replace(tzinfo=None) if a.idle_since else floor)
    return available


def sequential_attempts(block: RingGroupBlock, count: int) -> int:
    """How many members a one-by-one strategy rings before ``timeout_s`` runs out."""
    return min(count, max(1, block.timeout_s // block.member_timeout_s))


# --- parsing and checks ---------------------------------------------------------------------------


def _path(definition: dict, loc: Sequence) -> str:
    """A pydantic error location with block indexes replaced by block ids (``blocks.menu.say``)."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "blocks" and parts[1].isdigit():
        index = int(parts[1])
        blocks = definition.get("blocks") if isinstance(definition, dict) else None
        block = blocks[index] if isinstance(blocks, list) and index < len(blocks) else None
        block_id = block.get("id") if isinstance(block, dict) else None
        parts[1] = str(block_id or f"#{index + 1}")
        if len(parts) >= 3 and parts[2] in BLOCK_TYPES:
            del parts[2]  # the discriminator's tag adds nothing the block id does not say
    return ".".join(parts) or "definition"


def parse(definition: object) -> Flow:
    """A ``Flow`` from JSON data, or ``FlowInvalid`` naming each field (by block id)."""
    if not isinstance(definition, dict):
        raise FlowInvalid({"definition": ["A flow is a JSON object"]})
    try:
        return Flow.model_validate(definition)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            message = error["msg"].removeprefix("Value error, ")
            errors.setdefault(_path(definition, error["loc"]), []).append(message)
        raise FlowInvalid(errors) from None


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        current = todo.pop()
        if current in seen or not flow.has(current):
            continue
        seen.add(current)
        todo.extend(flow.block(current).targets().values())
    return seen


def _never_opens(block: HoursBlock) -> bool:
    return not any(block.schedule.get(day) for day in DAYS)


def check(flow: Flow) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The whole-flow rules a parsed flow must also meet: ``(errors, warnings)`` by path."""
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}

    def add(into: dict, path: str, message: str) -> None:
        into.setdefault(path, []).append(message)

    ids = [block.id for block in flow.blocks]
    for block_id in sorted({i for i in ids if ids.count(i) > 1}):
        add(errors, f"blocks.{block_id}.id", f"Two blocks are called {block_id!r}")
    if not flow.has(flow.start):
        add(errors, "start", f"No block called {flow.start!r} to start with")
    for block in flow.blocks:
        for field, target in block.targets().items():
            if target == block.id:
                add(errors, f"blocks.{block.id}.{field}", "A block cannot continue to itself")
            elif not flow.has(target):
                add(errors, f"blocks.{block.id}.{field}", f"No block called {target!r}")
        if isinstance(block, (RingGroupBlock, QueueBlock)) and not block.members and not block.team:
            kind = "ring group" if isinstance(block, RingGroupBlock) else "queue"
            add(errors, f"blocks.{block.id}.members", f"The {kind} has no members and no team")
        if isinstance(block, HoursBlock) and _never_opens(block):
            add(warnings, f"blocks.{block.id}.schedule", "The schedule never opens: every call goes to 'closed'")
        if isinstance(block, MenuBlock) and block.timeout_s > VONAGE_MAX_KEY_WAIT_S:
            add(warnings, f"blocks.{block.id}.timeout_s", f"On Vonage the menu waits {VONAGE_MAX_KEY_WAIT_S} s at most")
        if isinstance(block, VoicemailBlock) and not block.say.strip() and not block.recording:
            add(warnings, f"blocks.{block.id}.say", "No greeting: callers hear only the tone")
    if flow.has(flow.start) and not any(p.endswith(".id") for p in errors):
        reachable = _reachable(flow)
        for block in flow.blocks:
            if block.id not in reachable:
                add(errors, f"blocks.{block.id}", f"Block {block.id!r} cannot be reached from {flow.start!r}")
    return errors, warnings


def validate(definition: object) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(errors, warnings)`` for a JSON definition, each keyed by the path that names the block."""
    try:
        flow = parse(definition)
    except FlowInvalid as exc:
        return exc.errors, {}
    return check(flow)


def load(definition: object) -> tuple[Flow, dict[str, list[str]]]:
    """A flow that parses and holds together, with its warnings; ``FlowInvalid`` otherwise."""
    flow = parse(definition)
    errors, warnings = check(flow)
    if errors:
        raise FlowInvalid(errors)
    return flow, warnings


def json_schema() -> dict:
    """The JSON Schema of a flow definition, self-contained (no ``$ref``): the OpenAPI document
    embeds it in every body that carries a definition."""
    schema = TypeAdapter(Flow).json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            result = {key: inline(value) for key, value in node.items()}
            if isinstance(result.get("discriminator"), dict):
                result["discriminator"] = {"propertyName": result["discriminator"]["propertyName"]}
            return result
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


def people(flow: Flow) -> Iterable[str]:
    """Every e-mail the flow names (members and voicemail recipients), for checks against the organisation."""
    for block in flow.blocks:
        yield from getattr(block, "members", [])
        yield from getattr(block, "notify_members", [])


def teams(flow: Flow) -> Iterable[str]:
    for block in flow.blocks:
        for field in ("team", "notify_team"):
            value = getattr(block, field, None)
            if value:
                yield value


@dataclass(frozen=True)
class MenuChoice:
    """What a menu does with what the caller pressed on its ``attempt``-th play (0 = first)."""

    outcome: str  # "option", "repeat", "no_input"
    target: str  # the next block, or the menu itself when it repeats
    invalid: bool = False  # the caller pressed a key that is not an option


def menu_choice(block: MenuBlock, digits: str, attempt: int) -> MenuChoice:
    """A valid key goes to its option; silence or a wrong key replays the menu ``repeat`` times, then ``no_input``."""
    key = (digits or "")[:1]
    if key and key in block.options:
        return MenuChoice("option", block.options[key])
    invalid = bool(key)
    if attempt < block.repeat:
        return MenuChoice("repeat", block.id, invalid)
    return MenuChoice("no_input", block.no_input, invalid)
