"""A call's state, derived from all its status events whatever order they arrived in.

Pure: no ORM. Providers deliver callbacks late, twice and out of order, so nothing here depends on
arrival order: the state is a function of the set of events. The rules:

- events are ordered by the provider's timestamp, then its sequence number, then the state's rank;
- a terminal state (completed, busy, no-answer, failed, canceled) wins over any live state; between
  terminal states the earliest wins (the first end the provider reported is when the call ended);
- the call was *answered* when a person took it: an agent's leg answered (a child leg in progress,
  a dial or connect that was answered), or, for an outbound call, the call itself was answered;
- the outcome of an ended call: refused (over the line limits: the caller heard why, then the line hung up)
  › voicemail (a voicemail recording exists) › answered › failed (busy, failed) › abandoned (unanswered,
  ended within 15 s of its start) › missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from octopushx.telephony.models import TERMINAL_STATES, CallState

ABANDONED_WITHIN_S = 15
ANSWERED = "answered"  # an agent's leg answered (a child leg, a dial or connect outcome)
VOICEMAIL = "voicemail"  # a voicemail recording arrived for the call
REFUSED = "refused"  # the line limits refused the call (telephony.limits)
_RANK = {CallState.QUEUED: 0, CallState.RINGING: 1, CallState.IN_PROGRESS: 2}

# The provider's word → the provider-neutral state (None: stored, but says nothing about the state).
TWILIO_STATES = {
    "queued": CallState.QUEUED,
    "initiated": CallState.QUEUED,
    "ringing": CallState.RINGING,
    "in-progress": CallState.IN_PROGRESS,
    "answered": CallState.IN_PROGRESS,
    "completed": CallState.COMPLETED,
    "busy": CallState.BUSY,
    "no-answer": CallState.NO_ANSWER,
    "failed": CallState.FAILED,
    "canceled": CallState.CANCELED,
}
VONAGE_STATES = {
    "started": CallState.QUEUED,
    "ringing": CallState.RINGING,
    "answered": CallState.IN_PROGRESS,
    "completed": CallState.COMPLETED,
    "busy": CallState.BUSY,
    "timeout": CallState.NO_ANSWER,
    "unanswered": CallState.NO_ANSWER,
    "rejected": CallState.FAILED,
    "failed": CallState.FAILED,
    "cancelled": CallState.CANCELED,
}


def neutral_status(provider: str, raw: str) -> str | None:
    table = TWILIO_STATES if provider == "twilio" else VONAGE_STATES
    value = table.get((raw or "").strip().lower())
    return str(value) if value is not None else None


@dataclass(frozen=True)
class Event:
    """One stored callback as the derivation sees it."""

    status: str  # a CallState value, ANSWERED or VOICEMAIL
    occurred_at: datetime | None
    sequence: int | None = None
    child: bool = False  # an agent's leg of the call (Twilio ParentCallSid, a Vonage connected leg)
    duration: int | None = None  # the provider's billed seconds, on an end
    agent_id: str | None = None  # the member whose leg this is, when known

    def key(self) -> tuple:
        moment = self.occurred_at.timestamp() if self.occurred_at is not None else float("inf")
        return (moment, self.sequence if self.sequence is not None else -1, _RANK.get(self.status, 9), self.status,
                self.agent_id or "", self.duration if self.duration is not None else -1)  # fmt: skip


@dataclass(frozen=True)
class Derived:
    state: str | None  # None: no event of the call itself yet (keep what the call was opened with)
    state_at: datetime | None
    answered_at: datetime | None
    agent_id: str | None
    ended_at: datetime | None
    duration: int | None  # None: not ended
    outcome: str  # "" while the call is live
    voicemail: bool

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


def derive(events: Iterable[Event], *, direction: str, started_at: datetime | None) -> Derived:
    """The call's state, answer, end and outcome from its events (order of ``events`` is irrelevant)."""
    ordered = sorted(set(events), key=Event.key)
    own = [e for e in ordered if not e.child and (e.status in _RANK or e.status in TERMINAL_STATES)]
    ends = [e for e in own if e.status in TERMINAL_STATES]
    chosen = ends[0] if ends else (own[-1] if own else None)
    answers = [e for e in ordered if _is_answer(e, direction)]
    first_answer = answers[0] if answers else None
    agent_id = next((e.agent_id for e in answers if e.agent_id), None)
    voicemail = any(e.status == VOICEMAIL for e in ordered)
    refused = any(e.status == REFUSED for e in ordered)
    end = ends[0] if ends else None
    duration = None
    if end is not None:
        duration = end.duration
        if duration is None:
            duration = _seconds(started_at, end.occurred_at)
    outcome = ""
    if end is not None:
        outcome = "refused" if refused else _outcome(end.status, voicemail, first_answer is not None, duration)
    return Derived(
        state=chosen.status if chosen else None,
        state_at=chosen.occurred_at if chosen else None,
        answered_at=first_answer.occurred_at if first_answer else None,
        agent_id=agent_id,
        ended_at=end.occurred_at if end else None,
        duration=duration,
        outcome=outcome,
        voicemail=voicemail,
    )


def _is_answer(event: Event, direction: str) -> bool:
    if event.status == ANSWERED:
        return True
    if event.status != CallState.IN_PROGRESS:
        return False
    return event.child or direction == "outbound"


def _seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(0, round((end - start).total_seconds()))


def _outcome(end_state: str, voicemail: bool, answered: bool, duration: int) -> str:
    if voicemail:
        return "voicemail"
    if answered:
        return "answered"
    if end_state in (CallState.BUSY, CallState.FAILED):
        return "failed"
    if duration <= ABANDONED_WITHIN_S:
        return "abandoned"
    return "missed"
