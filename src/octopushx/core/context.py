"""Who is acting, from where: passed explicitly into services and recorded by the audit trail."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The user model by its Django base, not ``accounts.User``: core sits below accounts.
    from django.contrib.auth.base_user import AbstractBaseUser as User

ApiToken = Any  # an ``accounts.ApiToken`` (its ``name`` and ``prefix`` are read here)

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    token: ApiToken | None = None
    role: str | None = None
    ip: str | None = None
    user_agent: str = ""
    label_override: str = ""
    ref_override: str = ""  # an automated actor's id in the audit trail ("w:<workflow id>")

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label_override=label)

    @classmethod
    def from_request(cls, request: Any, user: User | None = None, token: ApiToken | None = None) -> Actor:
        membership = getattr(request, "membership", None)
        return cls(
            user=user if user is not None else (request.user if request.user.is_authenticated else None),
            token=token,
            role=membership.role if membership else None,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )

    @property
    def label(self) -> str:
        if self.label_override:
            return self.label_override
        if self.user is not None:
            suffix = f" (token {self.token.name})" if self.token is not None else ""
            return f"{self.user.email}{suffix}"
        return "anonymous"

    @property
    def ref(self) -> str:
        if self.ref_override:
            return self.ref_override[:64]
        parts = []
        if self.user is not None:
            parts.append(f"u:{self.user.pk}")
        if self.token is not None:
            # The token's short unique prefix: user uuid + prefix fit the 64-character column.
            parts.append(f"t:{self.token.prefix}")
        return " ".join(parts) or f"s:{self.label_override or 'anonymous'}"


def client_ip(request: Any) -> str | None:
    """The peer address; X-Forwarded-For only when a trusted proxy is configured."""
    from django.conf import settings

    if getattr(settings, "TRUST_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
