"""Settings → Jobs (the `jobs` URL namespace)."""

from django.urls import path

from octopushx.tenancy import jobs_views

app_name = "jobs"

urlpatterns = [
    path("", jobs_views.job_list, name="list"),
    path("<uuid:job_id>/retry/", jobs_views.retry, name="retry"),
]
