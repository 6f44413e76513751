"""The demo data set: a reseller, the customer "Acme Support" with a user of every role,
and a second customer so the tenant switcher has something to switch to. Idempotent."""

from __future__ import annotations

import textwrap

from django.db import transaction

from octopushx.core.context import Actor
from octopushx.tenancy import services
from octopushx.tenancy.models import Membership, Organization, OrgKind, Team
from octopushx.tenancy.roles import Role

PASSWORD = "demo-pass-2026"
ACME_USERS = [
    ("owner@acme.test", "Olivia Owner", Role.OWNER, "Support"),
    ("admin@acme.test", "Adam Admin", Role.ADMIN, "Support"),
    ("manager@acme.test", "Maya Manager", Role.MANAGER, "Support"),
    ("agent@acme.test", "Alex Agent", Role.AGENT, "Support"),
    ("agent2@acme.test", "Sam Agent", Role.AGENT, "Sales"),
    ("auditor@acme.test", "Aria Auditor", Role.AUDITOR, None),
]


def _org(name: str, kind: str, parent: Organization | None, **extra) -> Organization:
    org = Organization.objects.filter(name=name, kind=kind, deleted_at__isnull=True).first()
    if org is None:
        org = services.create_organization(Actor.system("demo"), name=name, kind=kind, parent=parent)
        for key, value in extra.items():
            setattr(org, key, value)
        org.save()
    return org


def _member(org: Organization, email: str, name: str, role: str, team: str | None = None) -> Membership:
    membership = Membership.objects.filter(tenant=org, user__email=email).first()
    if membership is None:
        membership = services.add_member(
            org, Actor.system("demo"), email=email, role=role, password=PASSWORD, full_name=name, check=False
        )
    if team:
        membership.team, _ = Team.objects.get_or_create(tenant=org, name=team)
        membership.save(update_fields=["team"])
    return membership


@transaction.atomic
def load() -> str:
    platform = services.platform_org()
    _member(platform, "staff@octopushx.test", "Pat Platform", Role.ADMIN)
    from octopushx.shield.legal import defaults as legal_defaults

    legal_defaults.seed(platform)
    reseller = _org(
        "Northwind Telecom", OrgKind.RESELLER, platform, brand_name="Northwind Voice", brand_color="#4338ca"
    )
    _member(reseller, "partner@northwind.test", "Nora Northwind", Role.ADMIN)
    acme = _org("Acme Support", OrgKind.CUSTOMER, reseller, default_region="GB")
    from octopushx.shield.seats import services as seats

    if seats.subscription_of(acme) is None:
        seats.set_subscription(acme, Actor.system("demo"), plan="team")
    for email, name, role, team in ACME_USERS:
        _member(acme, email, name, role, team)
    from octopushx.crm import demo as crm_demo

    crm_summary = crm_demo.load(acme)
    # Before the calls: their analysis then starts the negative-call workflow's runs.
    from octopushx.studio import demo as studio_demo

    studio_summary = studio_demo.load(acme)
    from octopushx.calls import demo as calls_demo

    calls_summary = calls_demo.load(acme)
    from octopushx.telephony import demo as telephony_demo

    telephony_summary = telephony_demo.load(acme)
    from octopushx.shield import demo as shield_demo

    admin = Membership.objects.get(tenant=acme, user__email="admin@acme.test")
    shield_summary = shield_demo.load(acme, admin)
    globex = _org("Globex Care", OrgKind.CUSTOMER, platform, default_region="US")
    _member(globex, "owner@globex.test", "Gina Globex", Role.OWNER)
    _member(globex, "admin@acme.test", "Adam Admin", Role.MANAGER)
    lines = [
        "Demo data is loaded. Once `octopushx serve` is running, open the address it prints and sign in with",
        "any of these (password: " + PASSWORD + "):",
        *(f"  {email:<24} {role.label:<8} Acme Support" for email, _n, role, _t in ACME_USERS),
        "  owner@globex.test        Owner    Globex Care",
        "  partner@northwind.test   Admin    Northwind Telecom (reseller)",
        "  staff@octopushx.test     Admin    OctopushX Platform (platform staff)",
        "admin@acme.test also belongs to Globex Care: use the organisation switcher at the top.",
        calls_summary,
        crm_summary,
        studio_summary,
        telephony_summary,
        shield_summary,
    ]
    return "\n".join(lines)


def sign_in_hint() -> list[str]:
    """What the serve banner says about signing in: the demo owner and the others, while the
    demo data is loaded and the owner's password is still the demo one (never in production)."""
    from django.conf import settings

    from octopushx.accounts.models import User

    if settings.PRODUCTION:
        return []
    owner_email = ACME_USERS[0][0]
    owner = User.objects.filter(email=owner_email, is_active=True).first()
    if owner is None or not owner.check_password(PASSWORD):
        return []
    others = [email for email, _name, _role, _team in ACME_USERS[1:]]
    return [
        f"Sign in as {owner_email} / {PASSWORD}",
        *textwrap.wrap(f"Other demo users, same password: {', '.join(others)}", width=72, subsequent_indent="  "),
    ]
