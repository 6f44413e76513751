"""How accounts' audit entries read: sign-ins, sessions, tokens, two-factor; users and tokens by name."""

from __future__ import annotations

from octopushx.accounts.models import ApiToken, User
from octopushx.core.audit_labels import labels, names

labels(
    {
        "auth.sign_in": "Signed in",
        "auth.sign_out": "Signed out",
        "auth.sign_in_failed": "Sign-in failed",
        "auth.account_locked": "Account locked",
        "auth.locked": "Account locked",
        "auth.locked_out": "Locked out",
        "auth.password_reset": "Password reset",
        "2fa.enabled": "Two-factor sign-in turned on",
        "2fa.disabled": "Two-factor sign-in turned off",
        "accounts.two_factor_mandatory": "Two-factor sign-in made mandatory",
        "session.revoked": "Session signed out",
        "session.evicted": "Session ended (seat limit)",
        "token.created": "API token created",
        "token.revoked": "API token revoked",
        "user.profile_updated": "Profile changed",
    },
    object_types={
        "auth": "Sign-in",
        "2fa": "Two-factor sign-in",
        "accounts": "Accounts",
        "user": "User",
        "session": "Session",
        "token": "API token",
        "apitoken": "API token",
    },
    fields={"full_name": "Name", "time_zone": "Time zone"},
)


@names("user")
def user_names(tenant, ids: set[str]) -> dict[str, str]:
    # Only people who are (or were invited as) members of this organisation are named.
    users = User.objects.filter(pk__in=ids, memberships__tenant=tenant).only("full_name", "email")
    return {str(u.pk): u.full_name or u.email for u in users}


@names("apitoken")
def token_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(pk): name for pk, name in ApiToken.objects.filter(pk__in=ids, tenant=tenant).values_list("pk", "name")}
