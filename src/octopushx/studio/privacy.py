"""Octopush Studio in Octopush Shield: workflow runs about a person, for access, export and erasure.

A run is about the person when its record is their contact (or a record of theirs such as a
call or a deal: ``contact_id``), or when its trigger data names them (an inbound webhook's body
with their email, say). Erasure deletes those runs with every step's input and output, and the
"once per record" enrolments of their contacts; the audit entries about the runs are
pseudonymised by Shield's audit source ("all").
"""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.timezone import localtime

from octopushx.core import audit
from octopushx.shield.privacy.subjects import Found, Identity, register
from octopushx.studio.models import Enrolment, Run, StepRun

SCAN_LIMIT = 50_000  # webhook/manual runs read per request when looking for a person's details


def find_runs(tenant, identity: Identity, found: Found) -> list[str]:
    contacts = [str(c) for c in found.contact_ids]
    ids: list[str] = []
    if contacts:
        ids += [str(pk) for pk in Run.objects.for_tenant(tenant).filter(
            Q(contact_id__in=contacts) | Q(record_type="contact", record_id__in=contacts)
        ).values_list("pk", flat=True)]  # fmt: skip
    if found.markers:
        seen = set(ids)
        loose = Run.objects.for_tenant(tenant).filter(contact_id="").exclude(pk__in=seen)
        for pk, trigger in loose.values_list("pk", "trigger")[:SCAN_LIMIT].iterator():
            if found.markers.matches(json.dumps(trigger, ensure_ascii=False)):
                ids.append(str(pk))
    return ids


def export_runs(tenant, ids) -> dict[str, bytes]:
    from octopushx.studio.services import run_dict

    runs = Run.objects.for_tenant(tenant).filter(pk__in=ids).select_related("workflow").order_by("created_at")
    data = [run_dict(run) for run in runs]
    return {"workflow_runs.json": json.dumps(data, indent=2, default=str, ensure_ascii=False).encode()}


def erase_runs(tenant, actor, ids) -> int:
    runs = list(Run.objects.for_tenant(tenant).filter(pk__in=ids))
    with transaction.atomic():
        contacts = {r.record_id for r in runs if r.record_type == "contact"} | {
            r.contact_id for r in runs if r.contact_id
        }
        for run in runs:
            audit.record(tenant, actor, "workflow_run.erased", obj=run, changes={"steps": [run.step_count, None]})
        Enrolment.objects.filter(tenant=tenant, record_type="contact", record_id__in=contacts).delete()
        StepRun.objects.filter(run__in=runs).delete()
        Run.objects.filter(retry_of__in=runs).update(retry_of=None)
        count, _ = Run.objects.filter(pk__in=[r.pk for r in runs]).delete()
    return len(runs) if count else 0


def describe_runs(tenant, ids) -> list[tuple[str, str]]:
    rows = []
    for run in Run.objects.for_tenant(tenant).filter(pk__in=ids).select_related("workflow").order_by("-created_at"):
        text = f"{run.workflow.name}: run of {localtime(run.created_at):%d %b %Y %H:%M} ({run.get_status_display()})"
        try:
            url = reverse("studio:run", args=[run.pk])
        except NoReverseMatch:
            url = ""
        rows.append((text, url))
    return rows


register("workflow_runs", label="Workflow runs (Octopush Studio)", find=find_runs, export=export_runs,
         erase=erase_runs, order=5, history="all", noun=("workflow run", "workflow runs"), describe=describe_runs,
         notes={"workflow_runs.json": "automated workflow runs about you: what triggered them and what each step did"})  # fmt: skip
