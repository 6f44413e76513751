"""Property: any sequence of subscription changes leaves a timeline that reproduces the subscription.

Each change either succeeds (one timeline row and one audit entry when something changed, none
when nothing did) or is refused with a 422-style error and leaves everything as it was.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopushx.billing import clock, services
from octopushx.billing.models import Subscription, SubscriptionChange
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from tests.billing.conftest import DAY_ONE
from tests.conftest import make_org

SYSTEM = Actor.system("test")
ADDON = st.sampled_from(["studio", "minutes_1000", "storage_100gb", "extra_seats", "jetpack"])
CHANGE = st.fixed_dictionaries(
    {},
    optional={
        "plan": st.sampled_from(["starter", "team", "enterprise", "gold"]),
        "seats": st.integers(min_value=-2, max_value=8),
        "interval": st.sampled_from(["month", "year", "week"]),
        "addons": st.lists(
            st.one_of(ADDON, st.fixed_dictionaries({"slug": ADDON, "quantity": st.integers(-1, 3)})), max_size=3
        ),
        "auto_renew": st.booleans(),
        "cancel_at_period_end": st.booleans(),
    },
)


def _counts(tenant) -> tuple[int, int]:
    return (
        SubscriptionChange.objects.filter(tenant=tenant).count(),
        AuditEntry.objects.filter(tenant=tenant, action="subscription.changed").count(),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.lists(CHANGE, min_size=1, max_size=6), after_trial=st.booleans())
def test_the_timeline_reproduces_the_subscription(db, billing_on, changes, after_trial):
    customer = make_org("Property Ltd")  # each example starts its own trial on DAY_ONE
    day = DAY_ONE + timedelta(days=20 if after_trial else 1)
    with clock.frozen(day):
        for change in changes:
            subscription = services.current_subscription(customer)
            before, counts = services.state_of(subscription), _counts(customer)
            try:
                services.change_subscription(customer, SYSTEM, **change)
            except ValidationError:
                assert services.state_of(Subscription.objects.get(tenant=customer)) == before
                assert _counts(customer) == counts
                continue
            after = services.state_of(Subscription.objects.get(tenant=customer))
            rows, audits = _counts(customer)
            if after == before:
                assert (rows, audits) == counts
            else:
                assert (rows, audits) == (counts[0] + 1, counts[1] + 1)
            latest = SubscriptionChange.objects.filter(tenant=customer).order_by("-created_at")
            assert latest.first().state == after
            assert after["seats"] >= 1
