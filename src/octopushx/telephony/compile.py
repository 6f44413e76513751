"""One flow, two providers: each block compiled to the TwiML document or the NCCO array it answers with.

Pure: the caller passes a ``CallContext`` with the webhook base URL, the moment, and callbacks for
what needs the database (the endpoints of the ring-group members available now, the URL of an
uploaded recording). A block answers with its own document and continues through a webhook:
Twilio's ``<Gather action>``, ``<Dial action>``, ``<Record action>`` and ``<Redirect>``; Vonage's
``input``/``connect``/``record`` ``eventUrl``. NCCO has no redirect, so blocks that only decide
(hours) or only speak (greeting) carry the next block's actions inline.

The URL of every step is ``{base}/hooks/telephony/{provider}/voice/{flow}/{block}`` with ``step``
and ``attempt`` in the query string; recordings report to ``…/recording/{flow}/{block}``, and each
leg a Twilio ``<Dial>`` rings reports its answer and end to ``…/twilio/leg/{flow}/{block}``.

TwiML reference: https://www.twilio.com/docs/voice/twiml — NCCO reference:
https://developer.vonage.com/en/voice/voice-api/ncco-reference
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from octopushx.telephony import flows
from octopushx.telephony.flows import (
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

Provider = Literal["twilio", "vonage"]
PROVIDERS: tuple[str, ...] = ("twilio", "vonage")
GOODBYE = "Thank you. Goodbye."


@dataclass(frozen=True)
class Endpoint:
    """Where a member's leg rings: a phone number (E.164), a SIP URI or a softphone client identity."""

    kind: Literal["number", "sip", "client"]
    address: str
    email: str = ""


@dataclass(frozen=True)
class Passed:
    """A block an answer passed, for the call's route: what it did, and whom a ring group rang."""

    block: str
    what: str
    rang: tuple[str, ...] = ()  # members' e-mails


def _no_endpoints(block) -> list[Endpoint]:
    return []


def _no_media(blob_id: str) -> str:
    raise LookupError(f"No URL for recording {blob_id}")


@dataclass
class CallContext:
    """What a block needs to know about the call it answers, and how to reach the database."""

    base_url: str  # "https://octopushx.example.com", no trailing slash
    flow_key: str  # the flow's id in webhook URLs
    now: datetime  # naive = the flow's time zone; aware = converted
    call_id: str = ""  # the provider's call id (names the call's ring-group conversation on Vonage)
    caller_id: str = ""  # the organisation's number the call came in on (E.164), shown on forwarded legs
    step: str = ""  # "", "wait" (queue hold), "recorded" (voicemail done)
    attempt: int = 0  # menu plays so far / ring-group members tried so far
    invalid: bool = False  # the last menu key was not an option
    queue_time_s: int = 0  # seconds in the queue so far (Twilio's QueueTime)
    endpoints: Callable[[RingGroupBlock], list[Endpoint]] = _no_endpoints  # available now, in ring order
    media_url: Callable[[str], str] = _no_media  # an uploaded recording's playable URL
    ringback_url: str = ""  # the tone callers hear while a Vonage ring group rings
    trace: list[Passed] | None = None  # when a list: each block this answer passes is appended (the route)

    def url(self, provider: str, block_id: str, kind: str = "voice", **params) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "", False)}
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url}/hooks/telephony/{provider}/{kind}/{self.flow_key}/{block_id}{suffix}"

    def local_now(self, flow: Flow) -> datetime:
        if self.now.tzinfo is None:
            return self.now
        return self.now.astimezone(flow.zone).replace(tzinfo=None)


def _passed(ctx: CallContext, block, target: str | None) -> None:
    """Note on ``ctx.trace`` what ``block`` did in this answer (``target``: where a deciding block went)."""
    if ctx.trace is None:
        return
    if target is not None:
        if isinstance(block, HoursBlock):
            what = f"{'open' if target == block.open else 'closed'} → {target}"
        else:
            what = f"nobody available → {target}"
        ctx.trace.append(Passed(block.id, what))
        return
    rang: tuple[str, ...] = ()
    if isinstance(block, RingGroupBlock):
        rang = tuple(e.email for e in _ring_targets(block, ctx))
        what = f"ringing {', '.join(rang)}"
    elif isinstance(block, MenuBlock):
        what = "menu repeated" if ctx.attempt else "menu played"
    elif isinstance(block, QueueBlock):
        what = {"wait": "holding", "left": f"left the queue → {block.next}"}.get(ctx.step, "queued")
    elif isinstance(block, VoicemailBlock):
        what = "message recorded" if ctx.step == "recorded" else "voicemail greeting, recording"
    elif isinstance(block, ForwardBlock):
        what = f"not answered → {block.next or 'hang up'}" if ctx.step == "after" else f"forwarding to {block.number}"
    elif isinstance(block, GreetingBlock):
        what = f"greeting played → {block.next}"
    else:
        what = "hung up"
    ctx.trace.append(Passed(block.id, what, rang))


def _decide(flow: Flow, block, ctx: CallContext) -> str | None:
    """The next block of a block that decides without the caller (hours; a ring group nobody can take)."""
    if isinstance(block, HoursBlock):
        return block.open if flows.is_open(block, ctx.local_now(flow)).open else block.closed
    if isinstance(block, RingGroupBlock) and not _ring_targets(block, ctx):
        return block.next
    return None


def _ring_targets(block: RingGroupBlock, ctx: CallContext) -> list[Endpoint]:
    """The legs this attempt rings: everyone for ``simultaneous``, one member per attempt otherwise."""
    endpoints = ctx.endpoints(block)[:10]  # Twilio dials at most 10 nouns at once
    if block.strategy == "simultaneous":
        return endpoints if ctx.attempt == 0 else []
    if ctx.attempt >= flows.sequential_attempts(block, len(endpoints)):
        return []
    return endpoints[ctx.attempt : ctx.attempt + 1]


def _disclose(flow: Flow, block_id: str, ctx: CallContext) -> str:
    """The recording disclosure, said once: at the start block's first answer."""
    if block_id == flow.start and not ctx.step and ctx.attempt == 0 and flow.recording.enabled:
        return flow.recording.disclosure.strip()
    return ""


# --- TwiML ----------------------------------------------------------------------------------------


def twiml(flow: Flow, block_id: str, ctx: CallContext) -> str:
    """The TwiML document ``block_id`` answers with (built with Twilio's ``VoiceResponse``)."""
    block = flow.block(block_id)
    response = VoiceResponse()
    disclosure = _disclose(flow, block_id, ctx)
    if disclosure:
        response.say(disclosure, language=flow.language)
    target = _decide(flow, block, ctx)
    _passed(ctx, block, target)
    if target is not None:
        response.redirect(ctx.url("twilio", target), method="POST")
        return response.to_xml()
    _TWIML[type(block)](response, flow, block, ctx)
    return response.to_xml()


def _twiml_play(response, flow: Flow, say: str, recording: str | None, ctx: CallContext, into=None) -> None:
    target = into if into is not None else response
    if recording:
        target.play(ctx.media_url(recording))
    elif say.strip():
        target.say(say.strip(), language=flow.language)


def _twiml_greeting(response, flow, block: GreetingBlock, ctx) -> None:
    _twiml_play(response, flow, block.say, block.recording, ctx)
    response.redirect(ctx.url("twilio", block.next), method="POST")


def _twiml_menu(response, flow, block: MenuBlock, ctx) -> None:
    if ctx.invalid:
        response.say(block.invalid_say, language=flow.language)
    gather = Gather(
        input="dtmf",
        num_digits=1,
        timeout=block.timeout_s,
        action=ctx.url("twilio", block.id, step="choice", attempt=ctx.attempt),
        method="POST",
        action_on_empty_result=True,  # silence reaches the action too: the server repeats or moves on
    )
    gather.say(block.say, language=flow.language)
    response.append(gather)


def _twiml_dial(flow: Flow, block, ctx: CallContext, timeout: int, action: str) -> Dial:
    options = {"timeout": timeout, "action": action, "method": "POST", "answer_on_bridge": True}
    if ctx.caller_id:
        options["caller_id"] = ctx.caller_id
    if flow.recording.enabled:
        options.update(
            record="record-from-answer-dual",
            recording_status_callback=ctx.url("twilio", block.id, kind="recording"),
            recording_status_callback_event="completed",
            recording_status_callback_method="POST",
        )
    return Dial(**options)


def _twiml_ring_group(response, flow, block: RingGroupBlock, ctx) -> None:
    targets = _ring_targets(block, ctx)
    simultaneous = block.strategy == "simultaneous"
    timeout = block.timeout_s if simultaneous else block.member_timeout_s
    # The action hears DialCallStatus: answered → the call is over; otherwise the handler compiles
    # this block again with the attempt in the URL (the next member, or ``next`` when none is left).
    dial = _twiml_dial(flow, block, ctx, timeout, ctx.url("twilio", block.id, step="after", attempt=ctx.attempt + 1))
    for endpoint in targets:
        _twiml_noun(dial, block, ctx, endpoint)
    response.append(dial)


def _twiml_noun(dial: Dial, block, ctx: CallContext, endpoint: Endpoint) -> None:
    """One dialled leg, reporting its own answer and end to the block's leg URL.

    The Dial action only says *that* a leg answered (``DialCallStatus``, ``DialCallSid``), and only when
    the dial is over; each noun's ``statusCallback`` says *which* (its ``To``) as soon as it answers, so
    the agent and their presence are known while the call is on (``hooks.twilio_leg``).
    """
    events = {
        "status_callback": ctx.url("twilio", block.id, kind="leg"),
        "status_callback_event": "answered completed",
        "status_callback_method": "POST",
    }
    if endpoint.kind == "number":
        dial.number(endpoint.address, **events)
    elif endpoint.kind == "sip":
        dial.sip(endpoint.address, **events)
    else:
        dial.client(endpoint.address, **events)


def queue_name(ctx: CallContext, block_id: str) -> str:
    return f"{ctx.flow_key}-{block_id}"


def _twiml_queue(response, flow, block: QueueBlock, ctx) -> None:
    if ctx.step == "wait":  # the Enqueue waitUrl: hold music until the maximum wait, then leave
        if ctx.queue_time_s >= block.max_wait_s:
            response.leave()
        else:
            response.play(block.hold_music)
        return
    if ctx.step == "left":
        response.redirect(ctx.url("twilio", block.next), method="POST")
        return
    if block.say.strip():
        response.say(block.say.strip(), language=flow.language)
    response.enqueue(
        queue_name(ctx, block.id),
        wait_url=ctx.url("twilio", block.id, step="wait"),
        wait_url_method="POST",
        action=ctx.url("twilio", block.id, step="left"),
        method="POST",
    )


def _twiml_voicemail(response, flow, block: VoicemailBlock, ctx) -> None:
    if ctx.step == "recorded":
        response.say(GOODBYE, language=flow.language)
        response.hangup()
        return
    _twiml_play(response, flow, block.say, block.recording, ctx)
    response.record(
        max_length=block.max_length_s,
        play_beep=True,
        finish_on_key="#",
        timeout=5,
        action=ctx.url("twilio", block.id, step="recorded"),
        method="POST",
        recording_status_callback=ctx.url("twilio", block.id, kind="recording"),
        recording_status_callback_event="completed",
        recording_status_callback_method="POST",
    )


def _twiml_forward(response, flow, block: ForwardBlock, ctx) -> None:
    if ctx.step == "after":
        if block.next:
            response.redirect(ctx.url("twilio", block.next), method="POST")
        else:
            response.hangup()
        return
    dial = _twiml_dial(flow, block, ctx, block.timeout_s, ctx.url("twilio", block.id, step="after"))
    _twiml_noun(dial, block, ctx, Endpoint("number", block.number))
    response.append(dial)


def _twiml_hangup(response, flow, block: HangupBlock, ctx) -> None:
    if block.say.strip():
        response.say(block.say.strip(), language=flow.language)
    response.hangup()


_TWIML = {
    GreetingBlock: _twiml_greeting,
    MenuBlock: _twiml_menu,
    RingGroupBlock: _twiml_ring_group,
    QueueBlock: _twiml_queue,
    VoicemailBlock: _twiml_voicemail,
    ForwardBlock: _twiml_forward,
    HangupBlock: _twiml_hangup,
}


# --- NCCO -----------------------------------------------------------------------------------------


def ncco(flow: Flow, block_id: str, ctx: CallContext) -> list[dict]:
    """The NCCO array ``block_id`` answers with (plain data following Vonage's NCCO reference)."""
    actions: list[dict] = []
    disclosure = _disclose(flow, block_id, ctx)
    if disclosure:
        actions.append(_talk(flow, disclosure))
    # Blocks that decide or only speak continue inline; a chain is at most as long as the flow.
    for _hop in range(len(flow.blocks)):
        block = flow.block(block_id)
        target = _decide(flow, block, ctx)
        _passed(ctx, block, target)
        if target is None:
            following = _NCCO[type(block)](actions, flow, block, ctx)
            if following is None:
                return actions
            target = following
        block_id, ctx = target, _fresh(ctx)
    return actions


def _fresh(ctx: CallContext) -> CallContext:
    return replace(ctx, step="", attempt=0, invalid=False, queue_time_s=0)


def _talk(flow: Flow, text: str, barge_in: bool = False) -> dict:
    action = {"action": "talk", "text": text, "language": flow.language}
    if barge_in:
        action["bargeIn"] = True
    return action


def _ncco_play(actions, flow, say: str, recording: str | None, ctx, barge_in: bool = False) -> None:
    if recording:
        action = {"action": "stream", "streamUrl": [ctx.media_url(recording)]}
        if barge_in:
            action["bargeIn"] = True
        actions.append(action)
    elif say.strip():
        actions.append(_talk(flow, say.strip(), barge_in))


def _ncco_greeting(actions, flow, block: GreetingBlock, ctx) -> str:
    _ncco_play(actions, flow, block.say, block.recording, ctx)
    return block.next


def _ncco_menu(actions, flow, block: MenuBlock, ctx) -> None:
    if ctx.invalid:
        actions.append(_talk(flow, block.invalid_say))
    actions.append(_talk(flow, block.say, barge_in=True))
    actions.append(
        {
            "action": "input",
            "type": ["dtmf"],
            "dtmf": {"maxDigits": 1, "timeOut": min(block.timeout_s, flows.VONAGE_MAX_KEY_WAIT_S)},
            "eventUrl": [ctx.url("vonage", block.id, step="choice", attempt=ctx.attempt)],
            "eventMethod": "POST",
        }
    )


def _vonage_endpoint(endpoint: Endpoint) -> dict:
    if endpoint.kind == "number":
        return {"type": "phone", "number": endpoint.address.lstrip("+")}
    if endpoint.kind == "sip":
        return {"type": "sip", "uri": endpoint.address}
    return {"type": "app", "user": endpoint.address}


def _ncco_record(actions, flow: Flow, block, ctx) -> None:
    if flow.recording.enabled:
        actions.append(
            {
                "action": "record",
                "split": "conversation",
                "channels": 2,
                "format": "mp3",
                "eventUrl": [ctx.url("vonage", block.id, kind="recording")],
                "eventMethod": "POST",
            }
        )


def _connect(flow, block, ctx, endpoint: Endpoint, timeout: int, event_url: str) -> dict:
    action = {
        "action": "connect",
        "timeout": timeout,
        "eventType": "synchronous",  # the event answer (next attempt, or nothing when answered) takes over
        "eventUrl": [event_url],
        "eventMethod": "POST",
        "endpoint": [_vonage_endpoint(endpoint)],
    }
    if ctx.caller_id:
        action["from"] = ctx.caller_id.lstrip("+")
    return action


def ring_conversation(flow_key: str, block_id: str, call_id: str) -> str:
    """The named conversation a Vonage caller waits in while a simultaneous ring group rings (members join it)."""
    return f"{flow_key}-{block_id}-{call_id}"


def _ncco_ring_group(actions, flow, block: RingGroupBlock, ctx) -> str | None:
    targets = _ring_targets(block, ctx)
    _ncco_record(actions, flow, block, ctx)
    if block.strategy == "simultaneous":
        # A connect action rings one endpoint: the caller waits in the call's own conversation while
        # the server, told by ``notify``, calls every member into it; the first to answer joins, the
        # rest are hung up, and after timeout_s the server transfers the caller to ``next``.
        actions.append(
            {
                "action": "notify",
                "payload": {
                    "event": "ring_group",
                    "block": block.id,
                    "timeout_s": block.timeout_s,
                    "endpoints": [_vonage_endpoint(e) for e in targets],
                },
                "eventUrl": [ctx.url("vonage", block.id, step="ring")],
                "eventMethod": "POST",
            }
        )
        conversation = {
            "action": "conversation",
            "name": ring_conversation(ctx.flow_key, block.id, ctx.call_id),
            "startOnEnter": False,
            "endOnExit": True,
        }
        if ctx.ringback_url:
            conversation["musicOnHoldUrl"] = [ctx.ringback_url]
        actions.append(conversation)
        return None
    event_url = ctx.url("vonage", block.id, step="after", attempt=ctx.attempt + 1)
    actions.append(_connect(flow, block, ctx, targets[0], block.member_timeout_s, event_url))
    return None


def _ncco_queue(actions, flow, block: QueueBlock, ctx) -> str | None:
    if ctx.step == "left":
        return block.next
    if block.say.strip():
        actions.append(_talk(flow, block.say.strip()))
    # The server starts the maximum-wait clock on ``notify`` and moves the caller to ``next`` when it runs out.
    actions.append(
        {
            "action": "notify",
            "payload": {"event": "queue_entered", "block": block.id, "max_wait_s": block.max_wait_s},
            "eventUrl": [ctx.url("vonage", block.id, step="queued")],
            "eventMethod": "POST",
        }
    )
    actions.append(
        {
            "action": "conversation",
            "name": queue_name(ctx, block.id),
            "startOnEnter": False,
            "endOnExit": False,
            "musicOnHoldUrl": [block.hold_music],
        }
    )
    return None


def _ncco_voicemail(actions, flow, block: VoicemailBlock, ctx) -> None:
    _ncco_play(actions, flow, block.say, block.recording, ctx)
    actions.append(
        {
            "action": "record",
            "format": "mp3",
            "beepStart": True,
            "endOnKey": "#",
            "endOnSilence": 5,
            "timeOut": block.max_length_s,
            "eventUrl": [ctx.url("vonage", block.id, kind="recording")],
            "eventMethod": "POST",
        }
    )
    actions.append(_talk(flow, GOODBYE))


def _ncco_forward(actions, flow, block: ForwardBlock, ctx) -> str | None:
    if ctx.step == "after":
        return block.next
    _ncco_record(actions, flow, block, ctx)
    endpoint = Endpoint("number", block.number)
    actions.append(_connect(flow, block, ctx, endpoint, block.timeout_s, ctx.url("vonage", block.id, step="after")))
    return None


def _ncco_hangup(actions, flow, block: HangupBlock, ctx) -> None:
    if block.say.strip():
        actions.append(_talk(flow, block.say.strip()))
    # An NCCO ends the call when its last action completes; an empty answer hangs up at once.


_NCCO = {
    GreetingBlock: _ncco_greeting,
    MenuBlock: _ncco_menu,
    RingGroupBlock: _ncco_ring_group,
    QueueBlock: _ncco_queue,
    VoicemailBlock: _ncco_voicemail,
    ForwardBlock: _ncco_forward,
    HangupBlock: _ncco_hangup,
}


def compile_block(flow: Flow, block_id: str, provider: str, ctx: CallContext) -> str | list[dict]:
    """TwiML (text) for ``twilio``, an NCCO (list) for ``vonage``."""
    if provider == "twilio":
        return twiml(flow, block_id, ctx)
    if provider == "vonage":
        return ncco(flow, block_id, ctx)
    raise ValueError(f"Unknown provider {provider!r}")


# --- refusals (line limits) ----------------------------------------------------------------------


def refusal_twiml(message: str, language: str = "en-GB") -> str:
    """A call the line may not take (``telephony.limits``): the message, then a clean hang-up."""
    response = VoiceResponse()
    response.say(message, language=language)
    response.hangup()
    return response.to_xml()


def refusal_ncco(message: str, language: str = "en-GB") -> list[dict]:
    """The NCCO of a refused call: one talk action; the call ends when it has been said."""
    return [{"action": "talk", "text": message, "language": language}]
