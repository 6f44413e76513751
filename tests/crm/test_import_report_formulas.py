"""Issue 11 finding 9: an import's error report guards formula cells, like the exports."""

from django.urls import reverse

from octopushx.core import jobs
from octopushx.crm.models import Import

from .test_imports import upload

FORMULAS = b'email,first name,notes\n=HYPERLINK("http://evil.example","x"),+cmd,@SUM(1)\nok@example.com,-2+3,=1+1\n'


def _text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_error_report_cells_never_start_a_formula(admin_api, web_as, org):
    upload(admin_api, FORMULAS, mapping='{"email": "email", "first name": "first_name", "notes": "job_title"}')
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.failed == 1
    api_report = _text(admin_api.get(f"/api/v1/imports/{record.pk}/errors"))
    page_report = _text(web_as("owner").get(reverse("crm:import_errors", args=[record.pk])))
    for report in (api_report, page_report):
        assert "'=HYPERLINK" in report and "'+cmd" in report and "'@SUM(1)" in report
        for line in report.splitlines()[1:]:
            for cell in line.split(","):
                assert not cell.strip('"').startswith(("=", "+", "@")), line
