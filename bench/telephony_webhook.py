"""Answer time of the inbound voice webhook: Twilio's signature check, the call logged, the flow compiled.

Each request is a new call (a new CallSid) to a number on the issue's support line (hours → menu, ring
groups of a five-member team, voicemail), signed with the SDK's ``RequestValidator`` and posted through
Django's test client with the whole middleware stack on a throw-away SQLite database. Then, for the same
calls, the first flow step (the menu's key) is timed too. Prints p50/p95/p99; target: p95 under 200 ms.

    .venv/bin/python bench/telephony_webhook.py [CALLS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OCTOPUSHX_DATA_DIR", tempfile.mkdtemp(prefix="octopushx-telephony-bench-"))
os.environ.setdefault("OCTOPUSHX_RATE_LIMITS", "0")
os.environ.setdefault("OCTOPUSHX_TESTING", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from octopushx.calls import services as call_services  # noqa: E402
from octopushx.core.context import Actor  # noqa: E402
from octopushx.telephony import services  # noqa: E402
from octopushx.telephony.models import PhoneNumber, Presence, ProviderAccount  # noqa: E402
from octopushx.tenancy import services as tenancy_services  # noqa: E402
from octopushx.tenancy.models import Team  # noqa: E402

SID = "AC" + "3" * 32
TOKEN = "bench-twilio-token"
LINE = "+441134960000"
ALWAYS = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
FLOW = {
    "name": "Support line",
    "timezone": "Europe/London",
    "start": "hours",
    "blocks": [
        {"id": "hours", "type": "hours", "schedule": ALWAYS, "open": "menu", "closed": "vm"},
        {"id": "menu", "type": "menu", "say": "Press 1 for billing or 2 for support.",
         "options": {"1": "billing", "2": "support"}, "timeout_s": 8, "no_input": "vm"},
        {"id": "billing", "type": "ring_group", "members": ["m0@bench.test", "m1@bench.test"],
         "strategy": "simultaneous", "timeout_s": 20, "next": "vm"},
        {"id": "support", "type": "ring_group", "team": "Support", "strategy": "round_robin", "timeout_s": 45,
         "member_timeout_s": 15, "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Please leave a message after the tone.", "notify_team": "Support"},
    ],
}  # fmt: skip


def setup() -> PhoneNumber:
    call_command("migrate", verbosity=0)
    actor = Actor.system("bench")
    org = tenancy_services.create_organization(actor, name="Bench telephony")
    team = Team.objects.create(tenant=org, name="Support")
    for index in range(5):
        member = tenancy_services.add_member(org, actor, email=f"m{index}@bench.test", role="agent",
                                             password="correct-horse-battery-9", check=False)  # fmt: skip
        member.team = team
        member.save(update_fields=["team"])
        Presence.objects.create(tenant=org, user=member.user, status="available", manual_status="available",
                                phone_number=f"+44770090010{index}")  # fmt: skip
    call_services.update_settings(org, actor, {"twilio_account_sid": SID, "twilio_auth_token": TOKEN})
    flow, _ = services.create_flow(org, actor, FLOW)
    account = ProviderAccount.objects.create(tenant=org, provider="twilio", account_id=SID)
    return PhoneNumber.objects.create(tenant=org, account=account, provider="twilio", number=LINE, flow=flow)


def post(client: Client, path: str, params: dict) -> float:
    signature = RequestValidator(TOKEN).compute_signature(f"http://127.0.0.1{path}", params)
    started = time.perf_counter()
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return elapsed


def report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"{name}: n={len(ms)} p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms, "
          f"max {ms[-1]:.1f} ms")  # fmt: skip


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    number = setup()
    client = Client(HTTP_HOST="127.0.0.1")
    incoming = f"/hooks/telephony/twilio/incoming/{number.pk}"
    menu = f"/hooks/telephony/twilio/voice/{number.flow_id}/menu?step=choice&attempt=0"
    for warm in range(10):  # first requests load modules and fill caches
        post(client, incoming, {"AccountSid": SID, "CallSid": f"CAwarm{warm}", "From": "+447700900999", "To": LINE})
    answers, steps = [], []
    for index in range(calls):
        params = {"AccountSid": SID, "CallSid": f"CA{index:032d}", "From": f"+4477009{index % 1000:05d}", "To": LINE}
        answers.append(post(client, incoming, params))
        steps.append(post(client, menu, {**params, "Digits": "2"}))
    report("incoming voice webhook (signature + call logged + flow compiled)", answers)
    report("menu step (signature + key → round-robin ring group compiled)", steps)
    p95 = statistics.quantiles([t * 1000 for t in answers], n=100, method="inclusive")[94]
    print(f"target p95 < 200 ms: {'met' if p95 < 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
