"""Telephony operations: call flows (create, change, delete, simulate, compile) and agents' presence.

Every change validates, writes in a transaction, leaves an audit entry and emits an event
(``call_flow.*``, ``presence.changed``). Flows: owners and admins change them; managers and
auditors read them. Presence: each member reads and sets their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.telephony import flows, prompts, simulate
from octopushx.telephony.compile import CallContext, Endpoint, compile_block
from octopushx.telephony.models import CallFlow, Presence, PresenceSource, PresenceStatus
from octopushx.tenancy.models import Membership
from octopushx.tenancy.roles import Role

EDITORS = (Role.OWNER, Role.ADMIN)
READERS = (Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AUDITOR)
CALL_TAKERS = (Role.OWNER, Role.ADMIN, Role.MANAGER, Role.AGENT)
# Provider-neutral call states: these make the agent busy; any other ends the call.
LIVE_CALL_STATES = frozenset({"ringing", "in-progress", "answered", "started"})


def can_edit(membership) -> bool:
    return membership is not None and membership.role in EDITORS


def can_read(membership) -> bool:
    return membership is not None and membership.role in READERS


def takes_calls(membership) -> bool:
    return membership is not None and membership.role in CALL_TAKERS


def _require_edit(actor: Actor) -> None:
    if actor.role is not None and actor.role not in EDITORS:
        raise PermissionDenied("Only owners and admins change call flows")


# --- flows ----------------------------------------------------------------------------------------


def _members(tenant):
    return Membership.objects.filter(tenant=tenant).select_related("user", "team")


def member_choices(tenant) -> list[tuple[str, str]]:
    """``(email, name)`` of every member, for the editor's ring-group and voicemail pickers."""
    rows = _members(tenant).order_by("user__email")
    return [(m.user.email.lower(), m.user.full_name or m.user.email) for m in rows]


def _reference_errors(tenant, flow: flows.Flow) -> dict[str, list[str]]:
    """Members, teams and recordings a flow names must exist in the organisation (named by block and field)."""
    emails = {m.user.email.lower() for m in _members(tenant)}
    team_names = set(tenant.teams.values_list("name", flat=True))
    errors: dict[str, list[str]] = {}
    for block in flow.blocks:
        for field in ("members", "notify_members"):
            for email in getattr(block, field, []) or []:
                if email not in emails:
                    errors.setdefault(f"blocks.{block.id}.{field}", []).append(f"{email} is not a member")
        for field in ("team", "notify_team"):
            name = getattr(block, field, None)
            if name and name not in team_names:
                errors.setdefault(f"blocks.{block.id}.{field}", []).append(f"No team called {name!r}")
    played = {block.id: block.recording for block in flow.blocks if getattr(block, "recording", None)}
    unknown = prompts.unknown_ids(tenant, set(played.values()))
    for block_id, prompt_id in played.items():
        if prompt_id in unknown:
            errors.setdefault(f"blocks.{block_id}.recording", []).append("No uploaded recording with this id")
    return errors


def check_definition(tenant, definition: object) -> tuple[flows.Flow, dict[str, list[str]]]:
    """The parsed flow and its warnings, or ``ValidationError`` with one message list per field."""
    try:
        flow, warnings = flows.load(definition)
    except flows.FlowInvalid as exc:
        raise ValidationError({f"definition.{k}": v for k, v in exc.errors.items()}) from None
    errors = _reference_errors(tenant, flow)
    if errors:
        raise ValidationError({f"definition.{k}": v for k, v in errors.items()})
    return flow, warnings


def validate_definition(tenant, definition: object) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(errors, warnings)`` without raising: what the editor shows inline."""
    errors, warnings = flows.validate(definition)
    if not errors:
        errors = _reference_errors(tenant, flows.parse(definition))
    return errors, warnings


def _name_taken(tenant, name: str, exclude=None) -> bool:
    qs = CallFlow.objects.for_tenant(tenant).filter(name=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.exists()


def create_flow(tenant, actor: Actor, definition: dict, *, is_active: bool = True) -> tuple[CallFlow, dict]:
    """A new call flow (revision 1) and the definition's warnings."""
    _require_edit(actor)
    flow, warnings = check_definition(tenant, definition)
    if _name_taken(tenant, flow.name):
        raise ValidationError({"definition.name": [f"A flow called {flow.name!r} exists"]})
    normal = flow.model_dump(mode="json")
    try:
        with transaction.atomic():
            row = CallFlow.objects.create(
                tenant=tenant, name=flow.name, definition=normal, is_active=is_active, created_by=actor.user
            )
            audit.record(tenant, actor, "call_flow.created", obj=row,
                         changes={"name": [None, row.name], "is_active": [None, is_active], "revision": [None, 1]})  # fmt: skip
            events.emit(tenant, "call_flow.created", {"flow_id": str(row.pk), "name": row.name})
    except IntegrityError:
        raise ValidationError({"definition.name": [f"A flow called {flow.name!r} exists"]}) from None
    return row, warnings


def update_flow(
    tenant, actor: Actor, row: CallFlow, *, definition: dict | None = None, is_active: bool | None = None
) -> tuple[CallFlow, dict]:
    """Change a flow's definition (the revision goes up) and/or switch it on or off."""
    _require_edit(actor)
    warnings: dict = {}
    changes: dict = {}
    normal = None
    if definition is not None:
        flow, warnings = check_definition(tenant, definition)
        if _name_taken(tenant, flow.name, exclude=row):
            raise ValidationError({"definition.name": [f"A flow called {flow.name!r} exists"]})
        normal = flow.model_dump(mode="json")
    with transaction.atomic():
        row = CallFlow.objects.select_for_update().get(pk=row.pk)
        if normal is not None and normal != row.definition:
            changed_blocks = _changed_blocks(row.definition, normal)
            changes["revision"] = [row.revision, row.revision + 1]
            if changed_blocks:
                changes["blocks"] = [None, changed_blocks]
            if normal["name"] != row.name:
                changes["name"] = [row.name, normal["name"]]
            row.definition, row.name, row.revision = normal, normal["name"], row.revision + 1
        if is_active is not None and is_active != row.is_active:
            changes["is_active"] = [row.is_active, is_active]
            row.is_active = is_active
        if changes:
            row.save()
            audit.record(tenant, actor, "call_flow.updated", obj=row, changes=changes)
            events.emit(tenant, "call_flow.updated", {"flow_id": str(row.pk), "revision": row.revision})
    return row, warnings


def _changed_blocks(old: dict, new: dict) -> list[str]:
    before = {b.get("id"): b for b in old.get("blocks", [])}
    after = {b.get("id"): b for b in new.get("blocks", [])}
    return sorted(i for i in set(before) | set(after) if before.get(i) != after.get(i))


def delete_flow(tenant, actor: Actor, row: CallFlow) -> None:
    _require_edit(actor)
    with transaction.atomic():
        audit.record(tenant, actor, "call_flow.deleted", obj=row, changes={"name": [row.name, None]})
        events.emit(tenant, "call_flow.deleted", {"flow_id": str(row.pk), "name": row.name})
        row.delete()


def flow_rows(tenant):
    return CallFlow.objects.for_tenant(tenant).select_related("created_by").order_by("name", "id")


# --- routing: presence snapshot, simulation, compilation ------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    email: str
    agent: flows.Agent
    endpoint: Endpoint | None  # None: the member has set no line, so nothing can ring them


def member_endpoint(presence: Presence | None, email: str) -> Endpoint | None:
    """Where the member's calls ring: their SIP URI, else their phone number, else nowhere."""
    if presence is not None and presence.sip_uri:
        return Endpoint("sip", presence.sip_uri, email)
    if presence is not None and presence.phone_number:
        return Endpoint("number", presence.phone_number, email)
    return None


def _member_lines(tenant, now: datetime) -> tuple[dict[str, MemberLine], dict[str, list[str]]]:
    """Every member's routing state now, and the members of each team (in e-mail order)."""
    presence = {p.user_id: p for p in Presence.objects.for_tenant(tenant)}
    lines: dict[str, MemberLine] = {}
    teams: dict[str, list[str]] = {}
    for membership in _members(tenant).order_by("user__email"):
        email = membership.user.email.lower()
        row = presence.get(membership.user_id)
        status = row.effective_status(now) if row else PresenceStatus.OFFLINE
        agent = flows.Agent(email, status, row.last_call_ended_at if row else None)
        lines[email] = MemberLine(email, agent, member_endpoint(row, email))
        if membership.team_id:
            teams.setdefault(membership.team.name, []).append(email)
    return lines, teams


def simulate_flow(
    tenant, row: CallFlow, *, caller: str, at: datetime, digits: list[str], unanswered: bool = False
) -> simulate.Simulation:
    """The routing simulator against the organisation's members and their presence now."""
    flow = flows.parse(row.definition)
    lines, teams = _member_lines(tenant, timezone.now())
    # The simulator shows the round-robin groups' current turn (the pointer live calls advance).
    rotation = {k: int(v) for k, v in (row.rotation or {}).items()}
    names = {str(pk): name for pk, name in prompts.rows(tenant).values_list("pk", "name")}
    snapshot = simulate.Presence(agents={e: line.agent for e, line in lines.items()}, teams=teams, rotation=rotation,
                                 recordings=names)  # fmt: skip
    try:
        return simulate.simulate(flow, caller, at, digits, snapshot, unanswered=unanswered)
    except ValueError as exc:
        raise ValidationError({"from": [str(exc)]}) from None


def ring_selector(tenant, row: CallFlow, *, now: datetime, rotation: dict[str, int] | None = None):
    """``endpoints(block)``: the lines a ring group rings now, in its strategy's order (available members
    with a line). Compilation and the Vonage ring-group legs (``telephony.vonage_legs``) share it."""
    lines, teams = _member_lines(tenant, now)
    turns = rotation if rotation is not None else (row.rotation or {})

    def endpoints(block) -> list[Endpoint]:
        emails = block.members or teams.get(block.team or "", [])
        candidates = [lines[e].agent for e in emails if e in lines]
        ordered_agents = flows.ring_order(block.strategy, candidates, int(turns.get(block.id, 0)))
        ordered = (lines[a.email].endpoint for a in ordered_agents)
        return [endpoint for endpoint in ordered if endpoint is not None]

    return endpoints


def compile_flow(
    tenant,
    row: CallFlow,
    *,
    block_id: str,
    provider: str,
    base_url: str,
    now: datetime | None = None,
    rotation: dict[str, int] | None = None,
    flow: flows.Flow | None = None,
    **call,
):
    """The TwiML document or NCCO ``block_id`` answers with now, ringing the members available now.

    ``rotation`` (ring-group id → calls taken) turns round-robin groups; it defaults to the flow's
    stored pointers. ``call`` carries the live call's ``CallContext`` fields (``call_id``, ``step``,
    ``attempt``, ``trace``, …) when a provider webhook asks.
    """
    flow = flow or flows.parse(row.definition)
    if not flow.has(block_id):
        raise ValidationError({"block": [f"No block called {block_id!r}"]})
    now = now or timezone.now()
    endpoints = ring_selector(tenant, row, now=now, rotation=rotation)

    def media_url(prompt_id: str) -> str:
        return prompts.media_url(base_url, row.pk, prompt_id)

    ctx = CallContext(
        base_url=base_url, flow_key=str(row.pk), now=now, endpoints=endpoints, media_url=media_url, **call
    )
    return compile_block(flow, block_id, provider, ctx)


# --- presence -------------------------------------------------------------------------------------


def presence_of(tenant, user) -> Presence:
    """The member's presence row (unsaved and offline until they first set it)."""
    return Presence.objects.for_tenant(tenant).filter(user=user).first() or Presence(tenant=tenant, user=user)


def _locked_presence(tenant, user) -> tuple[Presence, tuple]:
    """The member's row locked for the change (a new one when there is none), and its state before."""
    existing = Presence.objects.for_tenant(tenant).select_for_update().filter(user=user).first()
    if existing is None:
        return Presence(tenant=tenant, user=user), (None, None)
    return existing, (existing.status, existing.set_by)


def _save_presence(tenant, actor: Actor, presence: Presence, before: tuple, why: str) -> Presence:
    presence.save()
    after = (presence.status, presence.set_by)
    if after != before:
        audit.record(tenant, actor, "presence.changed", obj=presence,
                     changes={"status": [before[0], after[0]], "set_by": [before[1], after[1]]})  # fmt: skip
        events.emit(tenant, "presence.changed",
                    {"user_id": str(presence.user_id), "status": presence.status, "set_by": presence.set_by,
                     "reason": why})  # fmt: skip
    return presence


def set_presence(tenant, actor: Actor, user, status: str) -> Presence:
    """The agent's own choice. During a live call it is kept for the hang-up; the agent stays busy."""
    if status not in PresenceStatus.values:
        raise ValidationError({"status": [f"One of {', '.join(PresenceStatus.values)}"]})
    with transaction.atomic():
        presence, before = _locked_presence(tenant, user)
        presence.manual_status = status
        if presence.set_by != PresenceSource.CALL or presence.call_expired():
            presence.status, presence.set_by = status, PresenceSource.MANUAL
            presence.call_ref, presence.in_call_since = "", None
        return _save_presence(tenant, actor, presence, before, "manual")


def apply_call_status(tenant, user, *, call_ref: str, state: str, at: datetime | None = None) -> Presence:
    """Presence from a call status event: live states make the agent busy; any other ends that call.

    An end for another call than the live one is ignored (events can arrive out of order).
    """
    at = at or timezone.now()
    actor = Actor.system("telephony")
    with transaction.atomic():
        presence, before = _locked_presence(tenant, user)
        if state in LIVE_CALL_STATES:
            if presence.set_by != PresenceSource.CALL:
                presence.manual_status = PresenceStatus.AVAILABLE if before == (None, None) else presence.status
                presence.in_call_since = at
            presence.status, presence.set_by, presence.call_ref = PresenceStatus.BUSY, PresenceSource.CALL, call_ref
        elif presence.set_by == PresenceSource.CALL and presence.call_ref in ("", call_ref):
            presence.status, presence.set_by = presence.manual_status, PresenceSource.MANUAL
            presence.call_ref, presence.in_call_since, presence.last_call_ended_at = "", None, at
        else:
            return presence
        return _save_presence(tenant, actor, presence, before, f"call {state}")


def reconcile_presence(now: datetime | None = None) -> int:
    """Clear "busy" left by calls whose hang-up never arrived (any tenant); how many were cleared."""
    now = now or timezone.now()
    cleared = 0
    stale = Presence.objects.filter(set_by=PresenceSource.CALL, in_call_since__isnull=False).select_related("tenant")
    for presence in stale:
        if not presence.call_expired(now):
            continue
        with transaction.atomic():
            locked = Presence.objects.select_for_update().get(pk=presence.pk)
            if not locked.call_expired(now):
                continue
            before = (locked.status, locked.set_by)
            locked.status, locked.set_by = locked.manual_status, PresenceSource.TIMEOUT
            locked.call_ref, locked.in_call_since = "", None
            _save_presence(locked.tenant, Actor.system("telephony"), locked, before, "timeout")
            cleared += 1
    return cleared
