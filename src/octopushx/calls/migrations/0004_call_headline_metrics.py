"""Calls keep their current analysis's per-call metrics and keywords (``Call.metrics``), for reports."""

from django.db import migrations, models

CHUNK = 2000


def backfill(apps, schema_editor):
    from octopushx.calls.models import headline_metrics

    Call = apps.get_model("calls", "Call")
    analysed = Call.objects.filter(current__isnull=False).order_by("pk")
    last = None
    while True:
        page = analysed.filter(pk__gt=last) if last else analysed
        rows = list(page.values_list("pk", "current__data")[:CHUNK])
        if not rows:
            return
        calls = [Call(pk=pk, metrics=headline_metrics(data)) for pk, data in rows]
        Call.objects.bulk_update(calls, ["metrics"], batch_size=500)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("calls", "0003_call_over_quota")]

    operations = [
        migrations.AddField(model_name="call", name="metrics", field=models.JSONField(blank=True, default=dict)),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
