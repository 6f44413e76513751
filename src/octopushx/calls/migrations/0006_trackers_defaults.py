"""The shipped trackers for organisations that existed before trackers (new ones get them when
they are created, ``calls.signals``). Existing organisations have no tracker yet, so this only
adds. An organisation with analysed calls also gets one queued re-evaluation job per tracker (a row:
the job reaper of the next ``serve`` or ``worker`` delivers it), so its past calls get their hits
without being transcribed again."""

from django.db import migrations

DEFAULTS = [
    ("Competitors", "Another provider is mentioned: the customer compares or is being courted.", "customer",
     ["competitor", "switch provider", "other provider", "another provider", "better deal", "cheaper elsewhere",
      "better offer", "someone else", "your rivals"]),
    ("Cancellation intent", "The customer talks about leaving.", "customer",
     ["cancel", "cancellation", "close my account", "end my contract", "terminate", "stop my subscription",
      "leave", "switch to", "not renew", "unsubscribe"]),
    ("Pricing", "Price, cost and discounts come up, on either side.", "any",
     ["price", "cost", "discount", "expensive", "cheap", "invoice", "fee", "charge", "how much", "quote",
      "refund"]),
    ("Complaint", "The customer is unhappy with the service.", "customer",
     ["complaint", "complain", "not happy", "unhappy", "disappointed", "unacceptable", "terrible", "frustrated",
      "ridiculous", "speak to a manager", "escalate"]),
    ("Legal threat", "The customer mentions lawyers, courts or regulators.", "customer",
     ["lawyer", "solicitor", "attorney", "legal action", "sue", "court", "ombudsman", "regulator",
      "small claims", "trading standards"]),
]  # fmt: skip


JOB_KIND = "calls.trackers.evaluate"  # calls.services.trackers.JOB_KIND, as it was when this was written


def add_defaults(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Tracker = apps.get_model("calls", "Tracker")
    Call = apps.get_model("calls", "Call")
    Job = apps.get_model("core", "Job")
    for org in Organization.objects.all().iterator():
        have = {name.lower() for name in Tracker.objects.filter(tenant=org).values_list("name", flat=True)}
        added = Tracker.objects.bulk_create(
            [
                Tracker(tenant=org, name=name, description=description, side=side, phrases=phrases)
                for name, description, side, phrases in DEFAULTS
                if name.lower() not in have
            ]
        )
        if added and Call.objects.filter(tenant=org, status="analysed").exists():
            Job.objects.bulk_create(
                [
                    Job(
                        tenant=org,
                        kind=JOB_KIND,
                        payload={"tracker_id": str(tracker.pk), "revision": tracker.revision},
                        dedupe_key=f"{JOB_KIND}:{tracker.pk}:{tracker.revision}",
                    )
                    for tracker in added
                ]
            )


class Migration(migrations.Migration):
    dependencies = [("calls", "0005_trackers"), ("core", "0002_worker_identity")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
