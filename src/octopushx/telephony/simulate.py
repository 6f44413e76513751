"""The routing simulator: what happens to a call from a number, at a moment, with the keys pressed.

Pure and deterministic: the same flow, caller, time, digits and presence snapshot give the same
walk. It follows the rules the compiler uses (``flows.is_open``, ``flows.menu_choice``,
``flows.ring_order``); the walk ends where a person would take over (someone answers, voicemail
records, the call is forwarded or hung up) unless ``unanswered`` asks what happens when nobody picks up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import phonenumbers

from octopushx.telephony import flows
from octopushx.telephony.flows import (
    Agent,
    Flow,
    ForwardBlock,
    GreetingBlock,
    HangupBlock,
    HoursBlock,
    MenuBlock,
    QueueBlock,
    RingGroupBlock,
    VoicemailBlock,
)

MAX_STEPS = 50


@dataclass(frozen=True)
class Step:
    block: str
    type: str
    outcome: str
    detail: str


@dataclass
class Simulation:
    caller: str
    country: str
    local_time: str  # the moment in the flow's time zone, ISO
    path: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    ends: str = ""  # answered, voicemail, forwarded, hung_up, queued, loops

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Presence:
    """Who is available, and who is in which team, when the call comes in."""

    agents: Mapping[str, Agent] = field(default_factory=dict)  # by e-mail
    teams: Mapping[str, Sequence[str]] = field(default_factory=dict)  # team name → members' e-mails
    rotation: Mapping[str, int] = field(default_factory=dict)  # ring-group id → calls taken (round robin)
    recordings: Mapping[str, str] = field(default_factory=dict)  # uploaded recording id → its name

    def candidates(self, members: Sequence[str], team: str | None) -> list[Agent]:
        emails = list(members) if members else list(self.teams.get(team or "", []))
        return [self.agents.get(email) or Agent(email, "offline") for email in emails]


def _caller(number: str) -> tuple[str, str]:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{number!r} is not an international number (+44…)") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{number!r} is not a phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # Ofcom's drama numbers (+44 7700 900xxx) are possible but not valid: the country code still tells.
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code
    )
    return e164, "" if region == "ZZ" else region


def _local(flow: Flow, at: datetime) -> datetime:
    return at if at.tzinfo is None else at.astimezone(flow.zone).replace(tzinfo=None)


def _names(agents: Sequence[Agent]) -> str:
    return ", ".join(a.email for a in agents)


def _skipped(agents: Sequence[Agent]) -> str:
    return ", ".join(f"{a.email} ({a.status})" for a in agents if a.status != "available")


def simulate(
    flow: Flow,
    caller: str,
    at: datetime,
    digits: Sequence[str] = (),
    presence: Presence | None = None,
    unanswered: bool = False,
) -> Simulation:
    """Walk the flow from its start; ``at`` without a zone is read in the flow's time zone."""
    presence = presence or Presence()
    number, country = _caller(caller)
    local = _local(flow, at)
    result = Simulation(caller=number, country=country, local_time=local.isoformat(timespec="minutes"))
    keys = [str(d)[:1] for d in digits]
    current: str | None = flow.start

    def step(block, outcome: str, detail: str) -> None:
        result.steps.append(Step(block.id, block.type, outcome, detail))

    while current is not None:
        if len(result.steps) >= MAX_STEPS:
            result.ends = "loops"
            result.steps.append(Step(current, "", "stopped", f"More than {MAX_STEPS} steps: the flow loops"))
            break
        block = flow.block(current)
        result.path.append(block.id)
        current = None

        if isinstance(block, HoursBlock):
            opening = flows.is_open(block, local)
            target = block.open if opening.open else block.closed
            step(block, "open" if opening.open else opening.reason, f"{opening.detail} → {target}")
            current = target

        elif isinstance(block, GreetingBlock):
            name = presence.recordings.get(block.recording or "")
            said = (f"Says “{block.say.strip()}”" if block.say.strip()
                    else f"Plays “{name}”" if name else f"Plays recording {block.recording}")  # fmt: skip
            step(block, "played", f"{said} → {block.next}")
            current = block.next

        elif isinstance(block, MenuBlock):
            for attempt in range(block.repeat + 1):
                key = keys.pop(0) if keys else ""
                choice = flows.menu_choice(block, key, attempt)
                if choice.outcome == "option":
                    step(block, "pressed", f"Pressed {key} → {choice.target}")
                elif choice.invalid:
                    after = "the menu plays again" if choice.outcome == "repeat" else f"→ {choice.target}"
                    step(block, "invalid", f"Pressed {key}, not an option: {after}")
                else:
                    after = "the menu plays again" if choice.outcome == "repeat" else f"→ {choice.target}"
                    step(block, "no_input", f"No key within {block.timeout_s} s: {after}")
                if choice.outcome != "repeat":
                    current = choice.target
                    break

        elif isinstance(block, RingGroupBlock):
            candidates = presence.candidates(block.members, block.team)
            ordered = flows.ring_order(block.strategy, candidates, presence.rotation.get(block.id, 0))
            skipped = _skipped(candidates)
            skipped_note = f" Skipped: {skipped}." if skipped else ""
            if not ordered:
                who = f"team {block.team}" if block.team and not block.members else "the group"
                step(block, "all_busy", f"Nobody in {who} is available.{skipped_note} → {block.next}")
                current = block.next
                continue
            if block.strategy == "simultaneous":
                ringing = f"Rings {_names(ordered)} at once for {block.timeout_s} s."
            else:
                tried = ordered[: flows.sequential_attempts(block, len(ordered))]
                label = block.strategy.replace("_", " ")
                ringing = f"Rings {_names(tried)} one by one ({label}), {block.member_timeout_s} s each."
            if unanswered:
                step(block, "no_answer", f"{ringing}{skipped_note} Nobody answers → {block.next}")
                current = block.next
            else:
                step(block, "ringing", f"{ringing}{skipped_note} If nobody answers → {block.next}")
                result.ends = "answered"

        elif isinstance(block, QueueBlock):
            candidates = presence.candidates(block.members, block.team)
            available = [a for a in candidates if a.status == "available"]
            if available and not unanswered:
                step(block, "queued", f"Holds with music until {_names(available)} answers; "
                     f"after {block.max_wait_s} s → {block.next}")  # fmt: skip
                result.ends = "queued"
            else:
                why = "Nobody can answer" if not available else "Nobody answers"
                step(block, "max_wait", f"{why}: holds {block.max_wait_s} s with music → {block.next}")
                current = block.next

        elif isinstance(block, VoicemailBlock):
            notify = [f"team {block.notify_team}"] if block.notify_team else []
            notify += block.notify_members
            parts = [f"Records up to {block.max_length_s} s"]
            if block.transcribe:
                parts.append("transcribed and analysed like every call")
            if notify:
                parts.append(f"{'a task and a notification' if block.create_task else 'a notification'} "
                             f"for {', '.join(notify)}")  # fmt: skip
            step(block, "voicemail", "; ".join(parts) + ".")
            result.ends = "voicemail"

        elif isinstance(block, ForwardBlock):
            if unanswered and block.next:
                step(block, "no_answer", f"Forwards to {block.number}; nobody answers → {block.next}")
                current = block.next
            else:
                step(block, "forwarded", f"Forwards to {block.number} (rings {block.timeout_s} s)")
                result.ends = "forwarded"

        elif isinstance(block, HangupBlock):
            said = f"Says “{block.say.strip()}”, then hangs up" if block.say.strip() else "Hangs up"
            step(block, "hung_up", said)
            result.ends = "hung_up"

    if not result.ends:
        result.ends = "hung_up"
    return result
