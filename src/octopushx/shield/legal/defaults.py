"""Default platform documents, published by ``octopushx demo`` when none exist yet.

They are a starting point for the operator's own lawyers, not legal advice.
"""

from __future__ import annotations

from octopushx.core.context import Actor
from octopushx.shield.legal import services
from octopushx.shield.legal.models import DocumentKind, LegalDocument
from octopushx.tenancy.models import Organization

DEFAULTS: dict[str, tuple[str, str]] = {
    DocumentKind.TERMS: (
        "Terms of service",
        """# Terms of service

These terms govern your use of the service. By signing in you agree to them.

## Your account
- Keep your password and second factor to yourself. **Accounts are personal and must not be shared.**
- You are responsible for what happens under your account and your API tokens.

## Your data
Your organisation owns the data it puts into the service. We process it only on your
organisation's instructions, as set out in the data processing agreement.

## Suspension
We may suspend an organisation that breaches these terms or the acceptable use policy.
Suspension never deletes data; it is lifted once the issue is resolved.

## Changes
When these terms change we ask you to accept the new version before you continue.
""",
    ),
    DocumentKind.PRIVACY: (
        "Privacy policy",
        """# Privacy policy

This policy explains how we process personal data about the people who use the service.

| What | Why | How long |
|---|---|---|
| Account details (name, email) | to sign you in | while you have an account |
| Sign-in records (time, IP address, device) | security and abuse prevention | 12 months |
| Support messages | to help you | 24 months |

You can ask for access to, correction or erasure of your data, object to processing or
ask us to restrict it. Contact your organisation's administrator or our privacy team.
""",
    ),
    DocumentKind.COOKIES: (
        "Cookie policy",
        """# Cookie policy

| Cookie | Kind | Purpose | Lifetime |
|---|---|---|---|
| `sessionid` | essential | keeps you signed in | 14 days |
| `csrftoken` | essential | protects forms against forgery | 1 year |
| `opx_consent` | essential | remembers your cookie choice | 180 days |
| analytics | analytics, only with consent | counts page views to improve the service | up to 13 months |

You can change your choice at any time on the cookie choices page.
""",
    ),
    DocumentKind.AUP: (
        "Acceptable use policy",
        """# Acceptable use policy

You must not use the service to:

1. record or analyse calls without the notices and consent the law requires;
2. send spam, harass people or process data you have no right to process;
3. share one account between several people or resell access;
4. probe, overload or attack the service or other customers.

Breaches can lead to suspension of the organisation.
""",
    ),
    DocumentKind.DPA: (
        "Data processing agreement",
        """# Data processing agreement

This agreement (Article 28 GDPR) applies when we process personal data on behalf of your
organisation (the controller).

- We process personal data only on your documented instructions.
- People who process the data are bound by confidentiality.
- We apply the security measures described in the records of processing: encryption at
  rest with per-organisation keys, tamper-evident audit trails, two-factor sign-in.
- We use only the sub-processors listed in the sub-processor list and tell you before adding one.
- We help you answer data-subject requests and delete or return the data at the end of the service.
""",
    ),
    DocumentKind.SUBPROCESSORS: (
        "Sub-processors",
        """# Sub-processors

| Sub-processor | Purpose | Location |
|---|---|---|
| Your hosting provider | servers, database and encrypted file storage | as configured by the operator |
| Your email provider | sending invitations and notifications | as configured by the operator |

Transcription and analysis run on the platform's own servers; no audio leaves it.
""",
    ),
}


def seed(publisher: Organization) -> int:
    """Publish each default document the publisher does not have yet; returns how many."""
    created = 0
    for kind, (title, body) in DEFAULTS.items():
        if not LegalDocument.objects.for_tenant(publisher).filter(kind=kind).exists():
            services.publish(publisher, Actor.system("demo"), kind=kind, title=title, body=body)
            created += 1
    return created
