"""The agent's live line in the browser: the event stream, its polling fallback, the caller card, presence.

Each open stream holds one server thread, so it lives ``LIVE_STREAM_SECONDS`` and ends with a ``retry:``
hint (the browser's EventSource reconnects, and the first event of each stream, ``sync``, lists the
member's live calls so nothing missed in between is lost); a comment every ``LIVE_HEARTBEAT_SECONDS``
keeps proxies from closing it and finds browsers that left. A process holds at most its share of streams
(``live.slots``): beyond it the stream answers 204, which stops the EventSource, and the page polls
``live_state`` instead.
"""

from __future__ import annotations

import json
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from octopushx.telephony import callercard, display, live, services
from octopushx.telephony.models import PhoneCall

RETRY_MS = 1000  # how soon the browser reconnects after a stream ends


def call_taker(view):
    """Signed-in members of an organisation who take calls (owners, admins, managers, agents)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant is None:
            raise Http404("No organisation")
        if not services.takes_calls(request.membership) or request.membership._state.adding:
            raise PermissionDenied("Only members who take calls have a live line")
        return view(request, *args, **kwargs)

    return wrapped


class EventStream:
    """The body of one stream; ``close`` (called by the server when the response ends or the browser
    leaves) gives its slot back and unsubscribes, even if it was never iterated."""

    def __init__(self, tenant, user) -> None:
        self.tenant, self.user = tenant, user
        self.subscription: live.Subscription | None = None
        self.closed = False

    def __iter__(self):
        # Subscribe before reading the state, so an event between the two is not lost.
        self.subscription = live.broker().subscribe(live.channel(self.tenant.pk, self.user.pk))
        calls = callercard.sync_state(self.tenant, self.user)
        if not connection.in_atomic_block:
            connection.close()  # no database connection held idle for the stream's life
        yield f"retry: {RETRY_MS}\nevent: sync\ndata: {json.dumps({'calls': calls})}\n\n"
        deadline = time.monotonic() + settings.LIVE_STREAM_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.subscription.get(timeout=min(settings.LIVE_HEARTBEAT_SECONDS, remaining))
            if message is None:
                yield ": keep-alive\n\n"
            else:
                yield f"data: {json.dumps(message)}\n\n"

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.subscription is not None:
            self.subscription.close()
        live.slots().give_back()


@require_GET
@call_taker
def live_stream(request):
    """Server-sent events for the member's calls in this organisation (204 when the process is full)."""
    if not live.slots().take():
        response = HttpResponse(status=204)
        response["Retry-After"] = str(settings.LIVE_POLL_SECONDS)
        return response
    response = StreamingHttpResponse(EventStream(request.tenant, request.user), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@require_GET
@call_taker
def live_state(request):
    """The polling fallback: the member's live calls, as the stream's ``sync`` event lists them."""
    calls = callercard.sync_state(request.tenant, request.user)
    response = JsonResponse({"calls": calls, "poll_seconds": settings.LIVE_POLL_SECONDS})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@call_taker
def caller_card(request, phone_call_id):
    """One call's card for this member; 404 for another organisation's call or a call never theirs.

    The card is a fragment the page's script fetches (``X-Caller-Card``); opened as a page, its address
    leads to the home page, whose live slot shows the card while the call lasts.
    """
    phone_call = PhoneCall.objects.get_for_tenant(request.tenant, phone_call_id)
    state = callercard.relation(phone_call, request.user)
    if state is None:
        raise Http404("Not a call of yours")
    if not request.headers.get("X-Caller-Card"):
        return redirect("/")
    card = callercard.build(request.tenant, request.membership, phone_call, state)
    response = render(request, "telephony/_caller_card.html", {"card": card})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@call_taker
def presence_switch(request):
    """The top bar's presence control: set your own status (htmx swaps the control; else back to the page)."""
    try:
        presence = services.set_presence(request.tenant, request.actor, request.user, request.POST.get("status", ""))
    except ValidationError as exc:
        if request.headers.get("HX-Request"):
            presence = services.presence_of(request.tenant, request.user)
            context = {"presence": display.presence_view(presence), "error": " ".join(exc.messages)}
            return render(request, "telephony/_presence.html", context, status=422)
        return HttpResponse(" ".join(exc.messages), status=422, content_type="text/plain; charset=utf-8")
    if request.headers.get("HX-Request"):
        return render(request, "telephony/_presence.html", {"presence": display.presence_view(presence)})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)
