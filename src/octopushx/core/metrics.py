"""Prometheus metrics. Job gauges are read from the database at scrape time, so they are
correct across any number of worker processes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_LATENCY = Histogram(
    "octopushx_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    registry=REGISTRY,
)
JOB_RUNS = Counter("octopushx_jobs_completed", "Jobs completed by this process", ["kind"], registry=REGISTRY)
JOB_FAILURES = Counter(
    "octopushx_job_failures",
    "Job attempts that failed in this process",
    ["kind"],
    registry=REGISTRY,
)


class JobStateCollector:
    def describe(self):
        # Without this, registering would call collect() and query the database at import.
        yield GaugeMetricFamily("octopushx_jobs", "Jobs by kind and state", labels=["kind", "state"])

    def collect(self):
        from django.db.models import Count

        from octopushx.core.models import Job

        family = GaugeMetricFamily("octopushx_jobs", "Jobs by kind and state", labels=["kind", "state"])
        try:
            rows = Job.objects.values("kind", "state").annotate(n=Count("id")).order_by()
            for row in rows:
                family.add_metric([row["kind"], row["state"]], row["n"])
        except Exception:  # noqa: S110 - a scrape must not fail because the database is down
            pass
        yield family


REGISTRY.register(JobStateCollector())
