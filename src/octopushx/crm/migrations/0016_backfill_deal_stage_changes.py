"""Backfill the deal stage history from what the audit trail holds.

Per deal without history: a creation row at ``created_at`` (into the stage the first recorded move
left, or the deal's current stage when it never moved), then one row per ``deal.stage_changed``
audit entry in order. The audit trail keeps stage *names*; they are matched to the deal's pipeline
stages by name (a renamed or deleted stage keeps its name, without a link). Entries whose personal
part was erased (no changes left) are skipped: the history then has a gap, which is all it can say.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Deal = apps.get_model("crm", "Deal")
    Stage = apps.get_model("crm", "Stage")
    DealStageChange = apps.get_model("crm", "DealStageChange")
    AuditEntry = apps.get_model("core", "AuditEntry")
    AuditPersonal = apps.get_model("core", "AuditPersonal")

    done = set(DealStageChange.objects.values_list("deal_id", flat=True).distinct())
    stages: dict = {}
    for stage in Stage.objects.all().order_by("position"):
        stages.setdefault((stage.pipeline_id, stage.name), stage)

    for deal in Deal.objects.all().iterator(chunk_size=2000):
        if deal.pk in done:
            continue
        entries = list(
            AuditEntry.objects.filter(
                tenant_id=deal.tenant_id, object_type="deal", object_id=str(deal.pk), action="deal.stage_changed"
            ).order_by("seq")
        )
        personal = {p.entry_id: p.changes for p in AuditPersonal.objects.filter(entry_id__in=[e.pk for e in entries])}
        moves = []
        for entry in entries:
            change = (personal.get(entry.pk) or {}).get("stage")
            if isinstance(change, list | tuple) and len(change) == 2:
                moves.append((entry, str(change[0] or ""), str(change[1] or "")))
        rows = []
        first_name = moves[0][1] if moves else None
        first = stages.get((deal.pipeline_id, first_name)) if first_name else None
        if first_name is None:
            first = Stage.objects.filter(pk=deal.stage_id).first()
            first_name = first.name if first else ""
        rows.append(
            DealStageChange(
                tenant_id=deal.tenant_id,
                deal_id=deal.pk,
                pipeline_id=deal.pipeline_id,
                to_stage=first,
                to_stage_name=first_name,
                to_kind=first.kind if first else "open",
                changed_at=deal.created_at,
                backfilled=True,
            )
        )
        for entry, old_name, new_name in moves:
            old = stages.get((deal.pipeline_id, old_name))
            new = stages.get((deal.pipeline_id, new_name))
            rows.append(
                DealStageChange(
                    tenant_id=deal.tenant_id,
                    deal_id=deal.pk,
                    pipeline_id=deal.pipeline_id,
                    from_stage=old,
                    to_stage=new,
                    from_stage_name=old_name,
                    to_stage_name=new_name,
                    to_kind=new.kind if new else "open",
                    changed_at=entry.at,
                    actor_id=entry.actor_user_id,
                    backfilled=True,
                )
            )
        DealStageChange.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0015_dealstagechange"),
        ("core", "0002_worker_identity"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
