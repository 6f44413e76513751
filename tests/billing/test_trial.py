"""New customers start a 14-day trial with every feature, then fall back to Team unless they chose."""

from __future__ import annotations

from datetime import date, timedelta

from octopushx.billing import catalogue, clock, services
from octopushx.billing.models import ChangeKind, Status, Subscription, SubscriptionChange
from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import OrgKind
from octopushx.tenancy.roles import Role
from tests.billing.conftest import DAY_ONE
from tests.conftest import make_member, make_org

SYSTEM = Actor.system("test")
ALL_FEATURES = set(catalogue.FEATURES)


def test_a_new_customer_starts_a_14_day_trial_with_every_feature(customer):
    subscription = Subscription.objects.get(tenant=customer)
    assert subscription.status == Status.TRIALING
    assert subscription.started_on == DAY_ONE and subscription.trial_end == DAY_ONE + timedelta(days=14)
    assert subscription.plan.slug == "team" and not subscription.plan_chosen
    assert services.features_of(subscription) == ALL_FEATURES
    assert services.seat_capacity(subscription) is None  # not capped during the trial
    assert AuditEntry.objects.filter(tenant=customer, action="subscription.started").exists()
    assert SubscriptionChange.objects.get(subscription=subscription).kind == ChangeKind.STARTED


def test_with_billing_off_no_subscription_is_started(org):
    assert not Subscription.objects.filter(tenant=org).exists()
    assert services.current_subscription(org) is not None  # one starts when billing first needs it


def test_resellers_and_the_platform_have_no_subscription(db, billing_on):
    reseller = make_org("Resells", kind=OrgKind.RESELLER)
    assert services.current_subscription(reseller) is None
    assert not Subscription.objects.filter(tenant=reseller).exists()


def test_the_trial_lasts_to_its_last_day(customer):
    with clock.frozen(DAY_ONE + timedelta(days=13)):
        assert services.current_subscription(customer).status == Status.TRIALING


def test_after_the_trial_an_unchosen_plan_falls_back_to_team(customer):
    with clock.frozen(DAY_ONE + timedelta(days=14)):
        subscription = services.current_subscription(customer)
    assert subscription.status == Status.ACTIVE and subscription.plan.slug == "team"
    assert services.features_of(subscription) == {"calls", "reports"}
    ended = SubscriptionChange.objects.get(subscription=subscription, kind=ChangeKind.TRIAL_ENDED)
    assert ended.effective_on == date(2026, 3, 16) and ended.state["status"] == "active"
    assert AuditEntry.objects.filter(tenant=customer, action="subscription.trial_ended").count() == 1


def test_ending_the_trial_twice_records_it_once(customer):
    with clock.frozen(DAY_ONE + timedelta(days=30)):
        services.current_subscription(customer)
        services.current_subscription(customer)
    assert SubscriptionChange.objects.filter(tenant=customer, kind=ChangeKind.TRIAL_ENDED).count() == 1


def test_a_plan_chosen_during_the_trial_is_kept_after_it(customer):
    services.change_subscription(customer, SYSTEM, plan="starter", seats=3)
    subscription = services.current_subscription(customer)
    assert subscription.status == Status.TRIALING  # still every feature until the trial ends
    assert services.features_of(subscription) == ALL_FEATURES
    with clock.frozen(DAY_ONE + timedelta(days=20)):
        subscription = services.current_subscription(customer)
    assert subscription.plan.slug == "starter" and subscription.seats == 3


def test_seats_cover_the_people_in_at_the_end_of_the_trial(customer):
    for n, role in enumerate((Role.OWNER, Role.ADMIN, Role.AGENT, Role.AGENT)):
        make_member(customer, role, email=f"person-{n}@example.test")
    with clock.frozen(DAY_ONE + timedelta(days=14)):
        subscription = services.current_subscription(customer)
    assert subscription.seats == 4 and services.seat_capacity(subscription) == 4


def test_the_daily_job_ends_due_trials_once(customer, billing_on):
    with clock.frozen(DAY_ONE + timedelta(days=5)):
        not_due = make_org("Later Ltd")
    with clock.frozen(DAY_ONE + timedelta(days=14)):
        assert services.settle_due_trials() == 1
        assert services.settle_due_trials() == 0
    assert Subscription.objects.get(tenant=customer).status == Status.ACTIVE
    assert Subscription.objects.get(tenant=not_due).status == Status.TRIALING
