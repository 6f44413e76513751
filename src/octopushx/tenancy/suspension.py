"""Whether an organisation is suspended, why, and what its members and callers are told.

The state lives on ``Organization`` (``suspended_at``, ``suspension_reason``, ``suspension_note``)
and the reason codes live here, so sign-in, the tenant middleware and inbound webhooks can check
it without importing Octopush Shield, which owns the operations (suspend, reinstate) above them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import JsonResponse

from octopushx.tenancy.models import Membership, Organization

REASONS: dict[str, str] = {
    "abuse": "Abuse or misuse of the service",
    "terms_violation": "Breach of the terms of service or acceptable use policy",
    "account_sharing": "Accounts shared between people",
    "security": "Security incident under investigation",
    "non_payment": "Unpaid invoices",
    "legal": "Legal or regulatory request",
    "other": "Other",
}


# What a reason means for the people locked out, registered by the package that suspends for it
# (billing explains a non-payment suspension: which invoice, how much, how to pay).
_EXPLAINERS: dict[str, Callable[[Organization], str | None]] = {}


# Reasons set by the platform's own operations, never chosen by staff in the suspension form.
SYSTEM_REASONS: dict[str, str] = {
    "termination": "Termination under way (notice period)",
}

# What a member of an organisation suspended for a reason may still reach, as path patterns in
# which ``{org}`` stands for the organisation's id (an owner exports and cancels during notice).
_OPEN_PATHS: dict[str, tuple[str, ...]] = {}


def reason_label(code: str) -> str:
    return REASONS.get(code) or SYSTEM_REASONS.get(code) or code or "Suspended"


def register_open_paths(code: str, *patterns: str) -> None:
    """Let members of an organisation suspended for ``code`` reach these paths (regular expressions)."""
    _OPEN_PATHS[code] = (*_OPEN_PATHS.get(code, ()), *patterns)


def path_open(org: Organization | None, path: str) -> bool:
    """Whether ``path`` stays reachable while ``org`` is suspended for its current reason."""
    if org is None:
        return False
    patterns = _OPEN_PATHS.get(org.suspension_reason or "", ())
    return any(re.fullmatch(pattern.format(org=re.escape(str(org.pk))), path) for pattern in patterns)


def register_explainer(code: str, explain: Callable[[Organization], str | None]) -> None:
    """Register what members of an organisation suspended for ``code`` are told (a higher package's)."""
    _EXPLAINERS[code] = explain


def explanation(org: Organization) -> str:
    """The registered explanation of ``org``'s suspension, or "" when there is none."""
    explain = _EXPLAINERS.get(org.suspension_reason or "")
    return (explain(org) or "") if explain is not None else ""


def is_suspended(org: Organization | None) -> bool:
    return org is not None and org.suspended_at is not None


def webhook_refusal(org: Organization | None) -> JsonResponse | None:
    """For inbound webhook endpoints: a 403 answer when the tenant is suspended, else None.

    Call it before doing any work with the payload::

        refusal = suspension.webhook_refusal(tenant)
        if refusal is not None:
            return refusal
    """
    if not is_suspended(org):
        return None
    return JsonResponse(
        {
            "detail": "This organisation is suspended",
            "errors": {},
            "code": org.suspension_reason or "suspended",
        },
        status=403,
    )


def sign_in_notice(user) -> str | None:
    """The notice shown at sign-in when every organisation of the user is suspended."""
    tenants = [
        m.tenant for m in Membership.objects.filter(user=user, tenant__deleted_at__isnull=True).select_related("tenant")
    ]
    if not tenants or any(t.suspended_at is None for t in tenants):
        return None
    names = ", ".join(f"{t.name} ({reason_label(t.suspension_reason)})" for t in tenants)
    explained = " ".join(text for text in (explanation(t) for t in tenants) if text)
    if explained:
        return f"Your organisation is suspended: {names}. Nothing has been deleted. {explained}"
    return (
        f"Your organisation is suspended: {names}. Nothing has been deleted; "
        "contact your provider to have it reinstated."
    )
