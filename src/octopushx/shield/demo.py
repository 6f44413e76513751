"""Shield history for the demo tenant, so the compliance dashboard has something true to show.

Privacy requests go through the real services (received, identity attested) and are then dated back
to spread them over the last weeks: one fresh, one due within a week, one overdue, one completed.
A 60-day retention policy on notes and a real purge run delete the demo's older notes. Two security
alerts are raised the way the detectors raise them.
"""

from __future__ import annotations

from datetime import timedelta

from octopushx.core.context import Actor
from octopushx.shield.monitoring import services as monitoring
from octopushx.shield.privacy import services as privacy
from octopushx.shield.privacy.models import PrivacyRequest, RequestSource, RequestState
from octopushx.shield.retention import services as retention

# kind, phone, days since identity was attested (None: not yet verified), completed days ago
REQUESTS = (
    ("access", "+44 20 7946 0101", None, None),
    ("erasure", "+44 20 7946 0106", None, None),
    ("export", "+44 20 7946 0102", 26, None),  # due within the week
    ("erasure", "+44 20 7946 0103", 33, None),  # overdue
    ("restriction", "+44 20 7946 0104", 9, None),
    ("access", "+44 20 7946 0105", 12, 3),  # fulfilled in nine days
)


def load(tenant, admin) -> str:
    """Privacy requests, a retention purge and security alerts for ``tenant``; ``admin`` acts."""
    from django.utils import timezone

    if PrivacyRequest.objects.for_tenant(tenant).exists():
        return "Shield demo data: already loaded."
    actor = Actor(user=admin.user, role=admin.role)
    now = timezone.now()
    for kind, phone, attested_days_ago, completed_days_ago in REQUESTS:
        request = privacy.receive(tenant, actor, kind=kind, source=RequestSource.STAFF, phone=phone)
        if attested_days_ago is None:
            continue
        privacy.attest(tenant, actor, request, "Called back on the number held in the CRM")
        verified = now - timedelta(days=attested_days_ago)
        values = {"created_at": verified - timedelta(hours=2), "verified_at": verified}
        values["due_at"] = privacy.add_month(verified)
        if completed_days_ago is not None:
            values |= {"state": RequestState.COMPLETED, "completed_at": now - timedelta(days=completed_days_ago)}
        PrivacyRequest.objects.filter(pk=request.pk).update(**values)
    retention.set_policy(tenant, actor, "notes", keep=False, days=60)
    run = retention.purge(tenant, actor)
    alerts = (
        ("failed_burst", "Burst of failed sign-ins for agent@acme.test from 203.0.113.7"),
        ("role_escalation", "Sam Agent was given the admin role"),
    )
    for kind, summary in alerts:
        monitoring.raise_alert(tenant, kind=kind, dedupe_key=f"demo:{kind}", summary=summary, details={"demo": True})
    deleted = sum(run.counts.values())
    return f"Shield demo data: {len(REQUESTS)} privacy requests, a retention purge ({deleted} records), 2 alerts."
