"""Deals keep their last activity and the moment they entered their stage (crm.activity), for reports."""

from django.db import migrations, models

import octopushx.crm.models


def backfill(apps, schema_editor):
    from octopushx.crm import activity

    Deal, Note, Task, Change = (apps.get_model("crm", name) for name in ("Deal", "Note", "Task", "DealStageChange"))
    Deal.objects.update(
        last_activity_at=activity.last_activity(Note, Task, Change), stage_entered_at=activity.stage_entered(Change)
    )


class Migration(migrations.Migration):
    dependencies = [("crm", "0020_contact_owner_ids_index")]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="last_activity_at",
            field=octopushx.crm.models.LastActivityField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="deal", name="stage_entered_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(fields=["tenant", "status", "last_activity_at"], name="crm_deal_quiet_idx"),
        ),
    ]
