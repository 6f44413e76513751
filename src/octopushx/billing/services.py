"""Subscriptions: start the trial, end it (falling back to Team), change plan, seats, interval, add-ons.

Every change writes the subscription, a ``SubscriptionChange`` row (the timeline invoices will be
computed from) and an audit entry in one transaction. All dates come from ``billing.clock``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from octopushx.billing import catalogue, clock
from octopushx.billing.models import (
    AddOn,
    BillingProfile,
    ChangeKind,
    Interval,
    Plan,
    Pricing,
    Status,
    Subscription,
    SubscriptionAddOn,
    SubscriptionChange,
)
from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.shield.seats.services import seats_used
from octopushx.tenancy.models import Invitation, Membership, Organization, OrgKind
from octopushx.tenancy.roles import Perm, has_perm

TRIAL_DAYS = 14
FALLBACK_PLAN = "team"  # where a trial lands when the customer chose no plan
MAX_SEATS = 100_000


def enabled() -> bool:
    """The operator's switch (``OCTOPUSHX_BILLING``): off, nobody has a plan, limits or billing screens."""
    return bool(getattr(settings, "BILLING_ENABLED", False))


def is_billed(tenant: Organization | None) -> bool:
    """Customer organisations hold subscriptions; the platform and resellers do not (yet)."""
    return tenant is not None and tenant.kind == OrgKind.CUSTOMER


# --- reading -----------------------------------------------------------------------------------


def state_of(subscription: Subscription) -> dict[str, Any]:
    """The subscription as a plain snapshot (timeline rows and audit changes hold this)."""
    return {
        "plan": subscription.plan.slug,
        "plan_chosen": subscription.plan_chosen,
        "catalogue_version": subscription.version.number,
        "interval": subscription.interval,
        "currency": subscription.currency,
        "seats": subscription.seats,
        "addons": {row.addon.slug: row.quantity for row in subscription.addons.select_related("addon")},
        "status": subscription.status,
        "trial_end": subscription.trial_end.isoformat() if subscription.trial_end else None,
        "auto_renew": subscription.auto_renew,
        "cancel_at_period_end": subscription.cancel_at_period_end,
    }


def _record_change(subscription: Subscription, kind: str, effective_on) -> SubscriptionChange:
    return SubscriptionChange.objects.create(
        tenant=subscription.tenant,
        subscription=subscription,
        kind=kind,
        effective_on=effective_on,
        recorded_at=clock.now(),
        state=state_of(subscription),
    )


def subscription_of(tenant: Organization) -> Subscription | None:
    """The stored subscription as it is (no trial settling)."""
    return Subscription.objects.for_tenant(tenant).select_related("plan", "version").first()


def current_subscription(tenant: Organization) -> Subscription | None:
    """The customer's subscription as of the billing clock: started on first need, trial settled."""
    if not is_billed(tenant):
        return None
    subscription = subscription_of(tenant) or start_trial(tenant, Actor.system("billing"))
    return settle_trial(subscription)


def features_of(subscription: Subscription) -> set[str]:
    """Feature keys the subscription grants: every feature on trial, else its plan's and add-ons'."""
    if subscription.status == Status.TRIALING:
        found = {f for plan in subscription.version.plans.all() for f in plan.features}
        return found | {f for addon in subscription.version.addons.all() for f in addon.features}
    granted = set(subscription.plan.features)
    for row in subscription.addons.select_related("addon"):
        granted |= set(row.addon.features)
    return granted


def seat_capacity(subscription: Subscription) -> int | None:
    """Seats the subscription pays for (plus extra-seat add-ons); None while on trial (not capped)."""
    if subscription.status == Status.TRIALING:
        return None
    extra = sum(row.quantity * row.addon.seats for row in subscription.addons.select_related("addon"))
    return subscription.seats + extra


def _seats_in_use(tenant: Organization) -> tuple[int, int, int]:
    members = Membership.objects.filter(tenant=tenant).count()
    invited = sum(1 for i in Invitation.objects.filter(tenant=tenant, accepted_at__isnull=True) if i.is_open)
    return members + invited, members, invited


# --- the trial ---------------------------------------------------------------------------------


@transaction.atomic
def start_trial(tenant: Organization, actor: Actor, *, plan: str | None = None) -> Subscription:
    """Start the 14-day trial with every feature on the current catalogue (idempotent per tenant)."""
    Organization.objects.select_for_update().filter(pk=tenant.pk).first()  # one start per tenant
    existing = subscription_of(tenant)
    if existing is not None:
        return existing
    version = catalogue.current_version()
    chosen = version.plans.filter(slug=plan).first() if plan else None
    fallback = version.plans.filter(slug=FALLBACK_PLAN).first() or version.plans.order_by("position").first()
    today = clock.today()
    subscription = Subscription.objects.create(
        tenant=tenant,
        version=version,
        plan=chosen or fallback,
        plan_chosen=chosen is not None,
        seats=max(1, seats_used(tenant)),
        started_on=today,
        trial_end=today + timedelta(days=TRIAL_DAYS),
        status=Status.TRIALING,
        created_at=clock.now(),
    )
    _record_change(subscription, ChangeKind.STARTED, today)
    audit.record(
        tenant,
        actor,
        "subscription.started",
        obj=subscription,
        changes={"plan": [None, subscription.plan.slug], "trial_end": [None, subscription.trial_end.isoformat()]},
    )
    return subscription


def settle_trial(subscription: Subscription) -> Subscription:
    """End a trial whose last day has passed: active on the chosen plan, or on Team (idempotent).

    Seats become at least those in use, so nobody is locked out the day the trial ends.
    """
    if subscription.status != Status.TRIALING or subscription.trial_end is None:
        return subscription
    if clock.today() < subscription.trial_end:
        return subscription
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("plan", "version").get(pk=subscription.pk)
        if locked.status != Status.TRIALING:
            return locked
        old = state_of(locked)
        if not locked.plan_chosen:
            locked.plan = locked.version.plans.filter(slug=FALLBACK_PLAN).first() or locked.plan
        locked.status = Status.ACTIVE
        locked.seats = max(locked.seats, seats_used(locked.tenant), locked.plan.min_seats)
        locked.save()
        _record_change(locked, ChangeKind.TRIAL_ENDED, locked.trial_end)
        audit.record(
            locked.tenant,
            Actor.system("billing"),
            "subscription.trial_ended",
            obj=locked,
            changes=audit.diff(old, state_of(locked)),
        )
    events.emit(locked.tenant, "subscription.changed", {"subscription_id": str(locked.pk), "plan": locked.plan.slug})
    return locked


def settle_due_trials() -> int:
    """End every trial whose last day has passed (idempotent); returns how many ended."""
    if not enabled():
        return 0
    due = Subscription.objects.filter(status=Status.TRIALING, trial_end__lte=clock.today()).select_related(
        "plan", "version", "tenant"
    )
    ended = 0
    for subscription in due:
        ended += settle_trial(subscription).status != Status.TRIALING
    return ended


# --- changing ----------------------------------------------------------------------------------


def _parse_addons(raw: list[Any], version, plan: Plan, errors: dict[str, list[str]]) -> dict[AddOn, int]:
    """``["studio", {"slug": "minutes_1000", "quantity": 2}]`` -> {AddOn: quantity}, naming each problem."""
    available = {addon.slug: addon for addon in version.addons.all()}
    chosen: dict[AddOn, int] = {}
    problems: list[str] = []
    for item in raw:
        if isinstance(item, str):
            slug, quantity = item, 1
        elif isinstance(item, dict):
            slug, quantity = item.get("slug"), item.get("quantity", 1)
        else:
            problems.append('Each add-on is a slug or {"slug": ..., "quantity": n}')
            continue
        addon = available.get(slug) if isinstance(slug, str) else None
        if addon is None:
            problems.append(f"Unknown add-on {slug!r}; choose from: {', '.join(available)}")
            continue
        if addon in chosen:
            problems.append(f"{addon.name} is listed twice; give it once with a quantity")
            continue
        if plan.slug in addon.included_in:
            problems.append(f"{addon.name} is included in the {plan.name} plan")
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= addon.max_quantity:
            problems.append(f"{addon.name}: a quantity from 1 to {addon.max_quantity}")
            continue
        chosen[addon] = quantity
    if problems:
        errors["addons"] = problems
    return chosen


@transaction.atomic
def change_subscription(
    tenant: Organization,
    actor: Actor,
    *,
    plan: str | None = None,
    seats: int | None = None,
    interval: str | None = None,
    addons: list[Any] | None = None,
    auto_renew: bool | None = None,
    cancel_at_period_end: bool | None = None,
) -> Subscription:
    """Change the plan, seats, interval, add-ons or renewal of ``tenant``'s subscription.

    Checks everything first and changes nothing when anything is wrong. The plan is chosen within
    the subscription's own catalogue version (grandfathering). Changes take effect today.
    """
    if actor.user is not None and not has_perm(actor.role, Perm.ADMIN):
        raise PermissionDenied("Only owners and admins change the subscription")
    current = current_subscription(tenant)
    if current is None:
        raise ValidationError({"__all__": ["Only customer organisations have a subscription"]})
    subscription = Subscription.objects.select_for_update().select_related("plan", "version").get(pk=current.pk)
    errors: dict[str, list[str]] = {}
    version = subscription.version

    new_plan = subscription.plan
    if plan is not None:
        new_plan = version.plans.filter(slug=plan).first() if isinstance(plan, str) else None
        if new_plan is None:
            known = ", ".join(version.plans.values_list("slug", flat=True))
            errors["plan"] = [f"Unknown plan {plan!r}; choose one of: {known}"]
            new_plan = subscription.plan

    new_seats = subscription.seats
    if seats is not None:
        if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
            errors["seats"] = ["Seats must be a whole number of at least 1"]
        elif seats > MAX_SEATS:
            errors["seats"] = [f"At most {MAX_SEATS} seats"]
        else:
            new_seats = seats
    if "seats" not in errors and "plan" not in errors:
        if new_seats < new_plan.min_seats:
            errors["seats"] = [f"The {new_plan.name} plan needs at least {new_plan.min_seats} seats"]
        elif new_plan.max_seats is not None and new_seats > new_plan.max_seats:
            errors["seats"] = [f"The {new_plan.name} plan allows at most {new_plan.max_seats} seats"]

    new_interval = subscription.interval
    if interval is not None:
        if interval not in Interval.values:
            errors["interval"] = [f"Choose month or year, not {interval!r}"]
        else:
            new_interval = interval

    if addons is not None:
        if not isinstance(addons, list):
            errors["addons"] = ["A list of add-ons"]
            new_addons = {}
        else:
            new_addons = _parse_addons(addons, version, new_plan, errors)
    else:
        new_addons = {row.addon: row.quantity for row in subscription.addons.select_related("addon")}
        dropped = [addon for addon in new_addons if new_plan.slug in addon.included_in]
        for addon in dropped:  # moving onto a plan that includes an add-on ends paying for it
            new_addons.pop(addon)

    # On trial seats are not capped, so only seats the caller sets must cover the people already in.
    if "seats" not in errors and (seats is not None or subscription.status != Status.TRIALING):
        extra = sum(q * addon.seats for addon, q in new_addons.items())
        in_use, members, invited = _seats_in_use(tenant)
        if new_seats + extra < in_use:
            errors["seats"] = [
                f"{in_use} seats are in use ({members} member{'s' if members != 1 else ''} and {invited} open "
                f"invitation{'s' if invited != 1 else ''}): remove members or revoke invitations first, "
                f"or keep at least {in_use - extra} seats"
            ]

    for currency_field, value in (("plan", new_plan), *[("addons", a) for a in new_addons]):
        if isinstance(value, AddOn) and value.pricing == Pricing.PLAN_SEAT:
            continue
        if not value.prices.filter(currency=subscription.currency, interval=new_interval).exists():
            errors.setdefault(currency_field, []).append(
                f"{value.name} has no {new_interval}ly price in {subscription.currency}"
            )
    if errors:
        raise ValidationError(errors)

    old = state_of(subscription)
    subscription.plan = new_plan
    subscription.plan_chosen = subscription.plan_chosen or plan is not None
    subscription.seats = new_seats
    subscription.interval = new_interval
    if auto_renew is not None:
        subscription.auto_renew = bool(auto_renew)
    if cancel_at_period_end is not None:
        subscription.cancel_at_period_end = bool(cancel_at_period_end)
    subscription.save()
    SubscriptionAddOn.objects.filter(subscription=subscription).exclude(addon__in=list(new_addons)).delete()
    for addon, quantity in new_addons.items():
        SubscriptionAddOn.objects.update_or_create(
            tenant=tenant, subscription=subscription, addon=addon, defaults={"quantity": quantity}
        )
    new = state_of(subscription)
    changes = audit.diff(old, new)
    if not changes:
        return subscription
    _record_change(subscription, ChangeKind.CHANGED, clock.today())
    audit.record(tenant, actor, "subscription.changed", obj=subscription, changes=changes)
    events.emit(tenant, "subscription.changed", {"subscription_id": str(subscription.pk), "plan": new_plan.slug})
    return subscription


# --- cancellation at the period end ----------------------------------------------------------------


def cancelled_on(subscription: Subscription):
    """The day "cancel at period end" was last switched on (from the timeline), or None when it is off."""
    if not subscription.cancel_at_period_end:
        return None
    day, before = None, False
    for change in SubscriptionChange.objects.filter(subscription=subscription).order_by("effective_on", "recorded_at"):
        now_on = bool(change.state.get("cancel_at_period_end"))
        if now_on and not before:
            day = change.effective_on
        before = now_on
    return day


@transaction.atomic
def end_subscription(subscription: Subscription, last_day) -> Subscription:
    """A subscription cancelled at its period end stops after ``last_day`` (idempotent; audited)."""
    locked = Subscription.objects.select_for_update().select_related("plan", "version").get(pk=subscription.pk)
    if locked.status == Status.CANCELLED:
        return locked
    old = state_of(locked)
    locked.status, locked.auto_renew = Status.CANCELLED, False
    locked.save(update_fields=["status", "auto_renew", "updated_at"])
    _record_change(locked, ChangeKind.CHANGED, last_day + timedelta(days=1))
    audit.record(locked.tenant, Actor.system("billing"), "subscription.ended", obj=locked,
                 changes=audit.diff(old, state_of(locked)))  # fmt: skip
    events.emit(locked.tenant, "subscription.changed", {"subscription_id": str(locked.pk), "plan": locked.plan.slug})
    return locked


# --- grandfathering ------------------------------------------------------------------------------


def move_to_version(subscription: Subscription, actor: Actor, version) -> Subscription:
    """Move one subscription onto ``version`` (its plan and add-ons by slug); audited, on the timeline.

    Raises ``ValidationError`` (and changes nothing) when the new version lacks the plan or a price.
    """
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("plan", "version").get(pk=subscription.pk)
        if locked.version.number >= version.number:
            return locked
        plan = version.plans.filter(slug=locked.plan.slug).first()
        if plan is None:
            raise ValidationError({"plan": [f"Version {version.number} has no plan {locked.plan.slug!r}"]})
        if not plan.prices.filter(currency=locked.currency, interval=locked.interval).exists():
            raise ValidationError(
                {
                    "plan": [
                        f"Version {version.number} has no {locked.interval}ly {locked.currency} price for {plan.name}"
                    ]
                }
            )
        old = state_of(locked)
        available = {addon.slug: addon for addon in version.addons.all()}
        held = list(locked.addons.select_related("addon"))
        locked.version, locked.plan = version, plan
        locked.save()
        for row in held:
            replacement = available.get(row.addon.slug)
            if replacement is None or plan.slug in replacement.included_in:
                row.delete()  # gone from the catalogue, or now part of the plan
            else:
                row.addon, row.quantity = replacement, min(row.quantity, replacement.max_quantity)
                row.save()
        _record_change(locked, ChangeKind.MIGRATED, clock.today())
        audit.record(
            locked.tenant, actor, "subscription.migrated", obj=locked, changes=audit.diff(old, state_of(locked))
        )
    return locked


def migrate_subscriptions(actor: Actor, *, from_version: int | None = None) -> dict[str, Any]:
    """Platform staff move subscriptions of older catalogue versions (or only ``from_version``) to the current one.

    Each subscription moves in its own transaction; those that cannot (a plan the new version
    dropped) stay where they are and are listed with the reason.
    """
    if not catalogue.is_platform_staff(actor):
        raise PermissionDenied("Only platform staff move subscriptions between catalogue versions")
    current = catalogue.current_version()
    if from_version is not None and not 1 <= from_version < current.number:
        raise ValidationError({"from_version": [f"A version from 1 to {current.number - 1}"]})
    older = Subscription.objects.filter(version__number__lt=current.number).select_related("plan", "version", "tenant")
    if from_version is not None:
        older = older.filter(version__number=from_version)
    moved, kept = 0, []
    for subscription in older.order_by("created_at"):
        try:
            move_to_version(subscription, actor, current)
            moved += 1
        except ValidationError as exc:
            kept.append({"organization_id": str(subscription.tenant_id), "reason": " ".join(exc.messages)})
    return {"catalogue_version": current.number, "moved": moved, "kept": kept}


# --- what the page and the API show --------------------------------------------------------------


def summary(subscription: Subscription) -> dict[str, Any]:
    """Plan, seats used/total, trial, status and add-ons, for the Billing page and the API."""
    in_use, members, invited = _seats_in_use(subscription.tenant)
    capacity = seat_capacity(subscription)
    return {
        "plan": subscription.plan,
        "version": subscription.version,
        "interval": subscription.interval,
        "currency": subscription.currency,
        "seats": subscription.seats,
        "seat_capacity": capacity,
        "seats_used": in_use,
        "members": members,
        "open_invitations": invited,
        "status": subscription.status,
        "trial_end": subscription.trial_end,
        "started_on": subscription.started_on,
        "auto_renew": subscription.auto_renew,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "addons": list(subscription.addons.select_related("addon")),
        "features": sorted(features_of(subscription)),
    }


# --- billing details (who is invoiced, for tax) --------------------------------------------------

PROFILE_FIELDS = ("legal_name", "country", "business", "vat_number", "email")
VAT_NUMBER = re.compile(r"^[A-Z0-9]{2,14}$")


def profile_of(tenant: Organization) -> BillingProfile:
    """The customer's billing details (unsaved defaults until someone fills them in)."""
    found = BillingProfile.objects.for_tenant(tenant).first()
    return found or BillingProfile(tenant=tenant, country=(tenant.default_region or "GB").upper())


def profile_out(profile: BillingProfile) -> dict[str, Any]:
    return {field: getattr(profile, field) for field in PROFILE_FIELDS}


def _clean_profile(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    import phonenumbers
    from django.core.validators import validate_email

    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown = set(fields) - set(PROFILE_FIELDS)
    for name in sorted(unknown):
        errors[name] = [f"Unknown field; use {', '.join(PROFILE_FIELDS)}"]
    if "legal_name" in fields:
        name = " ".join(str(fields["legal_name"] or "").split())
        if len(name) > 200:
            errors["legal_name"] = ["At most 200 characters"]
        clean["legal_name"] = name
    if "country" in fields:
        country = str(fields["country"] or "").strip().upper()
        if country not in phonenumbers.SUPPORTED_REGIONS:
            errors["country"] = ["Use a two-letter country code, such as GB, DE or US"]
        clean["country"] = country
    if "business" in fields:
        if not isinstance(fields["business"], bool):
            errors["business"] = ["true or false"]
        clean["business"] = bool(fields["business"])
    if "vat_number" in fields:
        vat = re.sub(r"[\s.\-]", "", str(fields["vat_number"] or "")).upper()
        if vat and not VAT_NUMBER.match(vat):
            errors["vat_number"] = ["Letters and digits only, as on the VAT registration (e.g. DE123456789)"]
        clean["vat_number"] = vat
    if "email" in fields:
        email = str(fields["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = ["Enter a valid email address, or leave it empty to bill the owners"]
        clean["email"] = email
    return clean, errors


def update_profile(tenant: Organization, actor: Actor, **fields) -> BillingProfile:
    """Change the billing details (owners and admins); a wrong field is a ValidationError and nothing changes.

    The next invoices use them (an issued invoice keeps the details it was issued with).
    """
    if not is_billed(tenant):
        raise PermissionDenied("Only customer organisations have billing details")
    clean, errors = _clean_profile(fields)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        stored = BillingProfile.objects.select_for_update().filter(tenant=tenant).first()
        profile = stored or profile_of(tenant)
        before = profile_out(stored) if stored else {}
        for name, value in clean.items():
            setattr(profile, name, value)
        changes = audit.diff(before, profile_out(profile))
        if stored and not changes:
            return profile
        profile.save()
        audit.record(tenant, actor, "billing_profile.changed", obj=profile, changes=changes)
    return profile
