"""How flow blocks read on the flow page (an icon, a title and a few facts per block, with its exits), and how
a member's presence reads in the top bar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from octopushx.telephony import flows

ICONS = {
    "hours": "ti-clock",
    "greeting": "ti-message-circle",
    "menu": "ti-dialpad",
    "ring_group": "ti-users-group",
    "queue": "ti-hourglass",
    "voicemail": "ti-microphone",
    "forward": "ti-phone-outgoing",
    "hangup": "ti-phone-off",
}
TITLES = {
    "hours": "Business hours",
    "greeting": "Greeting",
    "menu": "Menu",
    "ring_group": "Ring group",
    "queue": "Queue",
    "voicemail": "Voicemail",
    "forward": "Forward",
    "hangup": "Hang up",
}


@dataclass
class BlockCard:
    id: str
    type: str
    icon: str
    title: str
    facts: list[tuple[str, str]]
    exits: list[tuple[str, str]]  # (label, target block id)
    start: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _schedule(block: flows.HoursBlock) -> str:
    days = [f"{day.title()} {', '.join(block.schedule[day])}" for day in flows.DAYS if block.schedule.get(day)]
    return "; ".join(days) or "Never open"


def _people(members: list[str], team: str | None) -> str:
    if members:
        return ", ".join(members)
    return f"Team {team}" if team else "Nobody"


def _played(recording: str, names: Mapping[str, str]) -> str:
    return f"“{names[recording]}”" if recording in names else f"recording {recording}"


def _facts(block, recordings: Mapping[str, str]) -> list[tuple[str, str]]:
    if isinstance(block, flows.HoursBlock):
        facts = [("Open", _schedule(block))]
        if block.holidays:
            facts.append(
                ("Holidays", block.holidays + (f" ({block.holiday_subdivision})" if block.holiday_subdivision else ""))
            )
        if block.closed_dates:
            facts.append(("Closed on", ", ".join(d.isoformat() for d in block.closed_dates)))
        return facts
    if isinstance(block, flows.GreetingBlock):
        return [("Says", block.say)] if block.say else [("Plays", _played(block.recording, recordings))]
    if isinstance(block, flows.MenuBlock):
        return [("Says", block.say), ("Waits", f"{block.timeout_s} s, plays {block.repeat + 1}× at most")]
    if isinstance(block, flows.RingGroupBlock):
        strategy = block.strategy.replace("_", " ").capitalize()
        ring = f"{block.timeout_s} s" + (
            "" if block.strategy == "simultaneous" else f", {block.member_timeout_s} s each"
        )
        return [("Rings", _people(block.members, block.team)), ("Strategy", strategy), ("For", ring)]
    if isinstance(block, flows.QueueBlock):
        facts = [("Answered by", _people(block.members, block.team)), ("Longest wait", f"{block.max_wait_s} s")]
        if block.say:
            facts.insert(0, ("Says", block.say))
        return facts
    if isinstance(block, flows.VoicemailBlock):
        notify = _people(block.notify_members, block.notify_team) if (block.notify_members or block.notify_team) else ""
        greeting = (
            ("Plays", _played(block.recording, recordings)) if block.recording else ("Says", block.say or "(tone only)")
        )
        facts = [greeting, ("Records", f"up to {block.max_length_s} s")]
        if block.transcribe:
            facts.append(("Transcribed", "yes, and analysed like every call"))
        if notify:
            facts.append(("Tells", notify + (" (with a task)" if block.create_task else "")))
        return facts
    if isinstance(block, flows.ForwardBlock):
        return [("Forwards to", block.number), ("Rings", f"{block.timeout_s} s")]
    if isinstance(block, flows.HangupBlock):
        return [("Says", block.say)] if block.say else []
    return []


def _exit_label(field_name: str) -> str:
    if field_name.startswith("options."):
        return f"Press {field_name.split('.', 1)[1]}"
    return {"open": "Open", "closed": "Closed", "no_input": "No key", "next": "Otherwise"}.get(field_name, field_name)


def _messages_for(block_id: str, messages: dict) -> list[str]:
    """The messages whose path names the block, each led by the field it is about ("Press 3: …")."""
    prefix = f"blocks.{block_id}"
    found = []
    for path, texts in messages.items():
        if path == prefix:
            found += texts
        elif path.startswith(prefix + "."):
            field_name = path[len(prefix) + 1 :]
            label = _exit_label(field_name).replace("_", " ")
            found += [f"{label[:1].upper()}{label[1:]}: {text}" for text in texts]
    return found


def cards(
    flow: flows.Flow,
    errors: dict | None = None,
    warnings: dict | None = None,
    recordings: Mapping[str, str] | None = None,
) -> list[BlockCard]:
    """One card per block, with the messages whose path names it (``recordings``: names by id)."""
    result = []
    for block in flow.blocks:
        card = BlockCard(
            id=block.id,
            type=block.type,
            icon=ICONS[block.type],
            title=block.label or TITLES[block.type],
            facts=_facts(block, recordings or {}),
            exits=[(_exit_label(k), v) for k, v in block.targets().items()],
            start=block.id == flow.start,
        )
        card.errors = _messages_for(block.id, errors or {})
        card.warnings = _messages_for(block.id, warnings or {})
        result.append(card)
    return result


def other_messages(messages: dict, flow: flows.Flow | None) -> list[str]:
    """Messages that name no block of the parsed flow (name, timezone, start, or a flow that did not parse)."""
    ids = {b.id for b in flow.blocks} if flow else set()
    found = []
    for path, texts in messages.items():
        parts = path.removeprefix("definition.").split(".")
        if parts[0] == "blocks" and len(parts) > 1 and parts[1] in ids:
            continue
        found += [f"{path.removeprefix('definition.')}: {text}" for text in texts]
    return found


# --- presence in the top bar ----------------------------------------------------------------------


def presence_view(presence) -> dict:
    """The switch's face: ``key`` names the dot's colour (``call`` while on a call), ``label`` its text,
    ``choices`` what the member can pick, ``chosen`` the status they picked (kept through a call)."""
    from octopushx.telephony.models import PresenceSource, PresenceStatus

    status = presence.effective_status()
    on_call = presence.set_by == PresenceSource.CALL and status == PresenceStatus.BUSY
    return {
        "key": "call" if on_call else status,
        "label": "On a call" if on_call else PresenceStatus(status).label,
        "on_call": on_call,
        "chosen": presence.manual_status if on_call else status,
        "choices": PresenceStatus.choices,
    }
