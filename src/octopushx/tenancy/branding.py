"""White-label brands: the brand an organisation shows, editing it, its images and custom domains.

A reseller (or the platform, whose brand is the default) owns a brand; customers show the
brand of the nearest branded reseller above them. Custom domains prove ownership by a DNS
TXT record; a verified domain serves its brand to anyone who reaches the platform through it.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from octopushx.core import audit, blobs
from octopushx.core.context import Actor
from octopushx.tenancy.models import Brand, BrandDomain, Membership, Organization, OrgKind
from octopushx.tenancy.roles import Role

DEFAULT_PRODUCT_NAME = "OctopushX"
DEFAULT_COLOR = "#0f766e"
COLOR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
BRAND_OWNER_KINDS = (OrgKind.RESELLER, OrgKind.PLATFORM)

# Images: what a browser shows in an <img> or as a favicon, never SVG (it can carry script).
IMAGE_LIMITS = {
    "logo": {"max_bytes": 1024 * 1024, "max_side": 4096, "formats": {"PNG", "JPEG", "GIF", "WEBP"}},
    "favicon": {"max_bytes": 256 * 1024, "max_side": 1024, "formats": {"PNG", "ICO", "GIF"}},
}
CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "ICO": "image/x-icon",
}

HOSTS_CACHE_KEY = "tenancy:brand-hosts:v1"
# Explicit invalidation reaches this process (and every process with Redis); the time-out bounds
# how long another process with its own in-memory cache serves a removed domain.
HOSTS_CACHE_SECONDS = 60

EDITABLE_FIELDS = ("product_name", "primary_color", "support_email", "support_url", "sender_name", "sender_email")


@dataclass(frozen=True)
class ResolvedBrand:
    """What a page or an email shows: one brand's values, with neutral defaults for the unset ones."""

    owner_id: str | None
    product_name: str
    primary_color: str
    support_email: str = ""
    support_url: str = ""
    sender_name: str = ""
    sender_email: str = ""
    logo_url: str = ""
    favicon_url: str = ""
    white_label: bool = False  # a reseller's brand, not the platform's

    @property
    def from_email(self) -> str:
        """The From header of emails sent in this brand."""
        _name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        if not self.white_label and not self.sender_email:
            return settings.DEFAULT_FROM_EMAIL
        return formataddr((self.sender_name or self.product_name, self.sender_email or default_address))


# --- which brand ---------------------------------------------------------------------------


def _has_brand(org: Organization) -> bool:
    return bool(org.brand_name) or Brand.objects.filter(tenant=org).exists()


def brand_owner(org: Organization | None) -> Organization | None:
    """The reseller or platform whose brand ``org`` shows: the nearest branded one above it (or itself)."""
    if org is None:
        return platform()
    chain = [org, *org.ancestors()]
    owners = [o for o in chain if o.kind in BRAND_OWNER_KINDS]
    for candidate in owners:
        if candidate.kind == OrgKind.PLATFORM or _has_brand(candidate):
            return candidate
    return owners[-1] if owners else platform()


def platform() -> Organization | None:
    return Organization.objects.filter(kind=OrgKind.PLATFORM).order_by("created_at").first()


def asset_url(blob_id) -> str:
    return f"/brand-assets/{blob_id}/"


def resolve(owner: Organization | None, *, shown_to: Organization | None = None) -> ResolvedBrand:
    """The brand of ``owner`` (a reseller or the platform); ``shown_to`` may override name and colour."""
    if owner is None:
        return ResolvedBrand(None, DEFAULT_PRODUCT_NAME, DEFAULT_COLOR)
    record = Brand.objects.filter(tenant=owner).first()
    named = shown_to if shown_to is not None and shown_to.brand_name else owner
    name = named.brand_name or (owner.name if owner.kind == OrgKind.RESELLER else DEFAULT_PRODUCT_NAME)
    colored = shown_to if shown_to is not None and shown_to.brand_color else owner
    return ResolvedBrand(
        owner_id=str(owner.pk),
        product_name=name,
        primary_color=colored.brand_color or DEFAULT_COLOR,
        support_email=record.support_email if record else "",
        support_url=record.support_url if record else "",
        sender_name=record.sender_name if record else "",
        sender_email=record.sender_email if record else "",
        logo_url=asset_url(record.logo_id) if record and record.logo_id else "",
        favicon_url=asset_url(record.favicon_id) if record and record.favicon_id else "",
        white_label=owner.kind == OrgKind.RESELLER,
    )


def for_organization(org: Organization | None) -> ResolvedBrand:
    """The brand an organisation's members see (a customer's is its reseller's)."""
    return resolve(brand_owner(org), shown_to=org if org is not None and org.kind == OrgKind.CUSTOMER else None)


def for_host(host: str) -> ResolvedBrand:
    """The brand of a verified custom domain, else the platform's default brand."""
    owner_id = owner_for_host(host)
    owner = Organization.objects.filter(pk=owner_id, deleted_at__isnull=True).first() if owner_id else None
    return resolve(owner) if owner is not None else for_organization(None)


def for_request(request) -> ResolvedBrand:
    """A verified custom domain's brand, else the signed-in tenant's, else the platform default."""
    owner_id = getattr(request, "brand_owner_id", None)
    if owner_id is not None:
        owner = Organization.objects.filter(pk=owner_id, deleted_at__isnull=True).first()
        if owner is not None:
            tenant = getattr(request, "tenant", None)
            under = tenant if tenant is not None and brand_owner(tenant) == owner else None
            return resolve(owner, shown_to=under if under is not None and under.kind == OrgKind.CUSTOMER else None)
    tenant = getattr(request, "tenant", None)
    return for_organization(tenant)


def for_user(user) -> ResolvedBrand:
    """The brand a person knows the platform by: that of their first organisation."""
    membership = (
        Membership.objects.filter(user=user, tenant__deleted_at__isnull=True)
        .select_related("tenant")
        .order_by("created_at")
        .first()
    )
    return for_organization(membership.tenant if membership else None)


def product_name_for_user(user) -> str:
    return for_user(user).product_name


# --- editing -------------------------------------------------------------------------------


def is_platform_staff(actor: Actor) -> bool:
    """Owners and admins of the platform organisation (the operator's staff)."""
    if actor.user is None:
        return actor.token is None  # the CLI and the system
    return Membership.objects.filter(
        user=actor.user, tenant__kind=OrgKind.PLATFORM, role__in=[Role.OWNER, Role.ADMIN]
    ).exists()


def check_owner(org: Organization) -> None:
    if org.kind not in BRAND_OWNER_KINDS:
        raise PermissionDenied("Only resellers and the platform have a brand to edit; yours is your provider's")


def _clean(fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    errors: dict[str, list[str]] = {key: ["Unknown field"] for key in unknown}
    cleaned = {}
    for key, value in fields.items():
        if key in unknown:
            continue
        if value is None:
            errors[key] = ["Cannot be empty (null); leave the field out to keep it"]
            continue
        if not isinstance(value, str):
            errors[key] = ["Must be text"]
            continue
        cleaned[key] = value.strip()
    if "product_name" in cleaned:
        if not cleaned["product_name"]:
            errors["product_name"] = ["A product name is required"]
        elif len(cleaned["product_name"]) > 200:
            errors["product_name"] = ["At most 200 characters"]
    color = cleaned.get("primary_color")
    if color and not COLOR_PATTERN.fullmatch(color):
        errors["primary_color"] = ["Use a colour like #0f766e"]
    for key in ("support_email", "sender_email"):
        if cleaned.get(key):
            try:
                validate_email(cleaned[key])
            except ValidationError:
                errors[key] = ["Enter a valid email address"]
    if cleaned.get("support_url"):
        try:
            URLValidator(schemes=["https", "http"])(cleaned["support_url"])
        except ValidationError:
            errors["support_url"] = ["Enter a full web address starting with https://"]
        if len(cleaned["support_url"]) > 300:
            errors["support_url"] = ["At most 300 characters"]
    if "sender_name" in cleaned and (
        len(cleaned["sender_name"]) > 100 or re.search(r'[\r\n<>"]', cleaned["sender_name"])
    ):
        errors["sender_name"] = ["At most 100 characters, without line breaks, quotes or angle brackets"]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _current(owner: Organization, record: Brand | None) -> dict:
    return {
        "product_name": owner.brand_name,
        "primary_color": owner.brand_color,
        **{k: getattr(record, k, "") for k in ("support_email", "support_url", "sender_name", "sender_email")},
    }


@transaction.atomic
def update_brand(owner: Organization, actor: Actor, **fields) -> Brand:
    """Change the brand's text fields; all are checked before anything is written."""
    check_owner(owner)
    cleaned = _clean(fields)
    owner = Organization.objects.select_for_update().get(pk=owner.pk)
    record, _ = Brand.objects.get_or_create(tenant=owner)
    old = _current(owner, record)
    if "product_name" in cleaned:
        owner.brand_name = cleaned["product_name"]
    if "primary_color" in cleaned:
        owner.brand_color = cleaned["primary_color"]
    owner.save(update_fields=["brand_name", "brand_color"])
    for key in ("support_email", "support_url", "sender_name", "sender_email"):
        if key in cleaned:
            setattr(record, key, cleaned[key])
    record.save()
    changes = audit.diff(old, _current(owner, record))
    if changes:
        audit.record(owner, actor, "brand.updated", obj=record, changes=changes)
    return record


def check_image(kind: str, data: bytes) -> str:
    """The image's content type, or a ValidationError saying what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    limits = IMAGE_LIMITS[kind]
    if not data:
        raise ValidationError({"file": ["The file is empty"]})
    if len(data) > limits["max_bytes"]:
        raise ValidationError({"file": [f"The {kind} must be at most {limits['max_bytes'] // 1024} KB"]})
    allowed = ", ".join(sorted(limits["formats"]))
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"file": [f"Not an image we can show; upload {allowed}"]})
    if fmt not in limits["formats"]:
        raise ValidationError({"file": [f"{fmt} images are not accepted for the {kind}; upload {allowed}"]})
    if max(width, height) > limits["max_side"]:
        raise ValidationError({"file": [f"The {kind} must be at most {limits['max_side']} pixels on each side"]})
    return CONTENT_TYPES[fmt]


@transaction.atomic
def set_image(owner: Organization, actor: Actor, kind: str, data: bytes, filename: str = "") -> Brand:
    """Replace the brand's logo or favicon (validated type, size and dimensions)."""
    check_owner(owner)
    if kind not in IMAGE_LIMITS:
        raise ValidationError({"kind": ["Choose logo or favicon"]})
    content_type = check_image(kind, data)
    record, _ = Brand.objects.select_for_update().get_or_create(tenant=owner)
    old = getattr(record, kind)
    blob = blobs.store(owner, data, filename=filename or kind, content_type=content_type, purpose=f"brand-{kind}")
    setattr(record, kind, blob)
    record.save()
    audit.record(
        owner, actor, f"brand.{kind}_changed", obj=record, changes={kind: [str(old.pk) if old else None, str(blob.pk)]}
    )
    if old is not None:
        transaction.on_commit(lambda: blobs.delete(old))
    return record


@transaction.atomic
def remove_image(owner: Organization, actor: Actor, kind: str) -> Brand:
    check_owner(owner)
    record, _ = Brand.objects.select_for_update().get_or_create(tenant=owner)
    old = getattr(record, kind)
    if old is None:
        return record
    setattr(record, kind, None)
    record.save()
    audit.record(owner, actor, f"brand.{kind}_changed", obj=record, changes={kind: [str(old.pk), None]})
    transaction.on_commit(lambda: blobs.delete(old))
    return record


def image_blob(blob_id):
    """The blob of a brand's logo or favicon (public: it is on the sign-in page), else None."""
    from django.db.models import Q

    record = Brand.objects.filter(Q(logo_id=blob_id) | Q(favicon_id=blob_id)).select_related("logo", "favicon").first()
    if record is None:
        return None
    return record.logo if str(record.logo_id) == str(blob_id) else record.favicon


# --- custom domains ------------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def clean_domain(value) -> str:
    domain = (value or "").strip().lower().rstrip(".") if isinstance(value, str) else ""
    if domain.startswith(("http://", "https://")) or "/" in domain or ":" in domain:
        raise ValidationError(
            {"domain": ["Give the domain name only, like crm.example.com (no https://, path or port)"]}
        )
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError({"domain": ["Enter a domain name like crm.example.com"]})
    own_hosts = [host for host in settings.ALLOWED_HOSTS if host != "*"]
    if domain == "localhost" or validate_host(domain, own_hosts):
        raise ValidationError({"domain": ["This is one of the platform's own addresses"]})
    return domain


@transaction.atomic
def add_domain(owner: Organization, actor: Actor, domain: str) -> BrandDomain:
    """Claim a domain for the brand; it serves the brand once its TXT record is verified."""
    check_owner(owner)
    domain = clean_domain(domain)
    existing = BrandDomain.objects.filter(domain=domain).first()
    if existing is not None:
        if existing.tenant_id == owner.pk:
            raise ValidationError({"domain": [f"{domain} is already one of your domains"]})
        raise ValidationError({"domain": [f"{domain} is already claimed by another brand"]})
    record = BrandDomain.objects.create(tenant=owner, domain=domain, token=secrets.token_urlsafe(24))
    Brand.objects.get_or_create(tenant=owner)
    audit.record(owner, actor, "brand.domain_added", obj=record, changes={"domain": [None, domain]})
    return record


class DnsResolver:
    """The real resolver: TXT strings at a name (dnspython)."""

    def txt(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = dns.resolver.resolve(name, "TXT", lifetime=5)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            raise ValidationError(
                {"domain": [f"DNS could not be asked about {name} just now: {exc.__class__.__name__}"]}
            )
        return [b"".join(record.strings).decode(errors="replace") for record in answer]


# Tests (and on-premise installs with their own DNS) replace this; it makes the resolver.
make_resolver: Callable[[], DnsResolver] = DnsResolver


@transaction.atomic
def verify_domain(record: BrandDomain, actor: Actor, *, resolver=None) -> BrandDomain:
    """Check the domain's TXT record; verified when it holds the token, else a clear error."""
    record = BrandDomain.objects.select_for_update().get(pk=record.pk)
    if record.verified_at is not None:
        return record
    found = (resolver or make_resolver()).txt(record.record_name)
    if record.record_value not in [value.strip() for value in found]:
        seen = f" (found: {', '.join(found[:3])})" if found else " (no TXT record found)"
        raise ValidationError(
            {"domain": [f"Create a TXT record named {record.record_name} with the value {record.record_value}{seen}"]}
        )
    return _mark_verified(record, actor, method="dns")


def _mark_verified(record: BrandDomain, actor: Actor, *, method: str) -> BrandDomain:
    record.verified_at = timezone.now()
    record.save(update_fields=["verified_at"])
    audit.record(
        record.tenant,
        actor,
        "brand.domain_verified",
        obj=record,
        changes={"domain": [None, record.domain], "method": [None, method]},
    )
    _invalidate_hosts_now_and_on_commit()
    return record


@transaction.atomic
def verify_without_dns(domain: str, actor: Actor) -> BrandDomain:
    """Platform staff mark a domain verified without DNS (on-premise installs, tests); audited."""
    if not is_platform_staff(actor):
        raise PermissionDenied("Only platform staff may verify a domain without DNS")
    domain = (domain or "").strip().lower().rstrip(".")
    record = BrandDomain.objects.select_for_update().filter(domain=domain).first()
    if record is None:
        raise ValidationError({"domain": [f"No brand has claimed {domain}; add it to a brand first"]})
    if record.verified_at is not None:
        return record
    return _mark_verified(record, actor, method="operator, without DNS")


@transaction.atomic
def remove_domain(record: BrandDomain, actor: Actor) -> None:
    audit.record(record.tenant, actor, "brand.domain_removed", obj=record, changes={"domain": [record.domain, None]})
    record.delete()
    _invalidate_hosts_now_and_on_commit()


def domains_visible_to(tenant: Organization, actor: Actor):
    """A brand's own domains; platform staff (working in the platform) reach every brand's."""
    if tenant.kind == OrgKind.PLATFORM and is_platform_staff(actor):
        return BrandDomain.objects.all()
    return BrandDomain.objects.filter(tenant=tenant)


# --- hosts ---------------------------------------------------------------------------------


def verified_hosts() -> dict[str, str]:
    """Verified domain → its brand owner's id, cached (cleared on every change)."""
    hosts = cache.get(HOSTS_CACHE_KEY)
    if hosts is None:
        hosts = {
            domain: str(tenant_id)
            for domain, tenant_id in BrandDomain.objects.filter(
                verified_at__isnull=False, tenant__deleted_at__isnull=True
            ).values_list("domain", "tenant_id")
        }
        cache.set(HOSTS_CACHE_KEY, hosts, HOSTS_CACHE_SECONDS)
    return hosts


def invalidate_hosts() -> None:
    cache.delete(HOSTS_CACHE_KEY)


def _invalidate_hosts_now_and_on_commit() -> None:
    # Now, so this transaction reads its own change; again after the commit, because another
    # request may have cached the old set in between.
    invalidate_hosts()
    transaction.on_commit(invalidate_hosts)


def owner_for_host(host: str) -> str | None:
    """The brand owner's id for a Host header (port allowed), or None when it is not a verified domain."""
    domain, _port = split_domain_port(host or "")
    if not domain:
        return None
    return verified_hosts().get(domain.rstrip("."))


def link_for(org: Organization, path: str) -> str:
    """An absolute link for an email to ``org``'s members: on its brand's verified domain when it has one."""
    from octopushx.core import links

    owner = brand_owner(org)
    current = urlsplit(links.base_url()).hostname or ""
    if owner is None or owner.kind != OrgKind.RESELLER or owner_for_host(current) == str(owner.pk):
        return links.absolute_url(path)
    domain = (
        BrandDomain.objects.filter(tenant=owner, verified_at__isnull=False)
        .order_by("verified_at")
        .values_list("domain", flat=True)
        .first()
    )
    return f"https://{domain}{path}" if domain else links.absolute_url(path)
