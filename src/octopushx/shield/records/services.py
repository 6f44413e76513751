"""The Article 30 register (records of processing) generated for one tenant.

It is built from what the platform knows: the organisation tree (controller, processor,
reseller), the data the tenant holds, its retention policies, the published
sub-processor list, and the security settings in force.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.apps import apps

from octopushx.core import audit, links
from octopushx.core.context import Actor
from octopushx.shield.legal import services as legal
from octopushx.shield.retention import services as retention
from octopushx.shield.seats import services as seats
from octopushx.tenancy.models import Membership, OrgKind
from octopushx.tenancy.roles import Role


@dataclass(frozen=True)
class Record:
    section: str
    item: str
    detail: str


def _count(app_label: str, model: str, tenant) -> int | None:
    try:
        model_class = apps.get_model(app_label, model)
    except LookupError:
        return None
    return model_class.objects.filter(tenant=tenant).count()


def register(tenant) -> list[Record]:
    rows: list[Record] = []

    def add(section: str, item: str, detail: str) -> None:
        rows.append(Record(section, item, detail))

    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER).values_list("user__email", flat=True)
    add("Controller", "Organisation", f"{tenant.name} (region {tenant.default_region})")
    add("Controller", "Contact", ", ".join(owners) or "no owner recorded")
    from octopushx.tenancy import branding

    # Under a reseller's brand the reseller is the processor; the platform operator is its
    # sub-processor, named in the reseller's own DPA (never to the reseller's customers).
    white_label = branding.for_organization(tenant).white_label
    processors = [org.name for org in tenant.ancestors() if not (white_label and org.kind == OrgKind.PLATFORM)]
    add("Processor", "Service", f"{tenant.brand}, operated by {' / '.join(processors) or 'the platform operator'}")

    add("Purposes", "Customer relationship management", "Keeping contacts, companies, deals, tasks and notes")
    add("Purposes", "Call recording and analysis", "Recording, transcribing and summarising calls with customers")
    add("Purposes", "Workflow automation", "Running the organisation's own automations on its records")
    add("Purposes", "Security and accountability", "Sign-in records, audit trail, abuse prevention")

    contacts = _count("crm", "Contact", tenant)
    calls = _count("calls", "Call", tenant)
    members = Membership.objects.filter(tenant=tenant).count()
    add("Data subjects", "Customers and prospects", f"{contacts} contacts" if contacts is not None else "contacts")
    if calls is not None:
        add("Data subjects", "Call participants", f"{calls} calls")
    add("Data subjects", "Staff users", f"{members} members")

    add("Personal data", "Identity and contact details", "names, email addresses, phone numbers, addresses, job titles")
    add("Personal data", "Relationship history", "notes, tasks, deals, activities, consent and lawful basis")
    if calls is not None:
        add("Personal data", "Calls", "recordings, transcripts, summaries, sentiment and action items")
    add("Personal data", "Account and security data", "sign-in times, IP addresses, devices, audit entries")

    subprocessors = legal.current("subprocessors", tenant)
    if subprocessors is not None:
        link = links.absolute_url("/legal/subprocessors/")
        add("Recipients", "Sub-processors", f"{subprocessors.title} version {subprocessors.version}: {link}")
    else:
        add("Recipients", "Sub-processors", "no sub-processor list has been published")
    add(
        "Recipients", "Transfers outside the hosting region", "none by the platform; exports are made by the controller"
    )

    for policy in retention.effective_policies(tenant):
        add("Retention", policy.label, "kept" if policy.days is None else f"deleted after {policy.days} days")
    holds = retention.active_holds(tenant)
    if holds.tenant_wide or holds.contact_ids or holds.call_ids:
        add("Retention", "Legal holds in force", f"whole organisation: {'yes' if holds.tenant_wide else 'no'}; "
            f"contacts: {len(holds.contact_ids)}; calls: {len(holds.call_ids)}")  # fmt: skip

    policy = seats.policy_of(tenant)
    add("Security", "Encryption at rest", "AES-256-GCM with a data key per organisation, wrapped by a master key")
    add(
        "Security",
        "Audit trail",
        "hash-chained per organisation; personal details stored apart so erasure keeps it verifiable",
    )
    add("Security", "Two-factor sign-in", "mandatory" if tenant.require_2fa else "available, not mandatory")
    add("Security", "Concurrent sessions per user", str(policy.max_sessions_per_user or "not limited"))
    add("Security", "Access control", "roles owner, admin, manager, agent, auditor with a single permission matrix")
    add("Security", "Rate limits", "sign-in, public forms and the API, per client address and per token")
    return rows


CSV_COLUMNS = ["section", "item", "detail"]


def export_csv(tenant, actor: Actor) -> str:
    """The register as CSV; the export is audited."""
    rows = register(tenant)
    audit.record(tenant, actor, "records.exported", object_type="records", changes={"rows": [None, len(rows)]})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.section, row.item, row.detail])
    return buffer.getvalue()


def export_pdf(tenant, actor: Actor) -> bytes:
    """The register as a PDF; the export is audited."""
    from django.utils import timezone

    from octopushx.shield.records import pdf

    rows = register(tenant)
    audit.record(tenant, actor, "records.exported", object_type="records", changes={"format": [None, "pdf"]})
    lines: list[tuple[str, str]] = [("p", f"Generated {timezone.now():%d %B %Y %H:%M} UTC for {tenant.name}.")]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines += [("p", ""), ("h2", section)]
        lines.append(("p", f"{row.item}: {row.detail}"))
    return pdf.render(f"Records of processing - {tenant.name}", lines, organisation=tenant.name, brand=tenant.brand)
