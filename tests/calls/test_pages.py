"""The calls pages: list with filters, call page, upload, search with jump-to-moment, settings."""

from __future__ import annotations

from django.urls import reverse

from octopushx.calls.models import Call, CallStatus
from octopushx.core.models import AuditEntry
from tests.calls.factories import analysed_call


def test_list_page_shows_calls_and_filters(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    page = client.get(reverse("calls:list"))
    assert page.status_code == 200
    assert str(call.pk) in page.content.decode() and "Unreviewed AI output" in page.content.decode()
    filtered = client.get(reverse("calls:list") + "?direction=outbound")
    assert str(call.pk) not in filtered.content.decode()
    bad = client.get(reverse("calls:list") + "?direction=sideways")
    assert bad.status_code == 200 and "inbound or outbound" in bad.content.decode()


def test_call_page_has_player_transcript_chart_and_review(org, web_as):
    from octopushx.core import blobs

    client = web_as("admin")
    call = analysed_call(org)
    Call.objects.filter(pk=call.pk).update(redacted=blobs.store(org, b"RIFF", filename="r.wav"))
    html = client.get(reverse("calls:detail", args=[call.pk]) + "?t=3").content.decode()
    for piece in (
        "data-waveform",
        'id="call-peaks"',
        "data-transcript",
        'data-chart="sentiment"',
        'data-chart="talk"',
        'id="call-charts"',
        "vendor/echarts/echarts.min.js",
        "calls/charts.js",
        "speaker-agent",
        "Make a CRM task",
        "Approve as it is",
        "Unreviewed AI output",
        'data-start-at="3"',
        "calls/player.js",
    ):
        assert piece in html, piece
    assert "style=" not in html and "<script>" not in html


def test_call_page_shows_the_summary_lines_and_action_items_with_due_dates(org, web_as):
    from octopushx import intelligence
    from tests.calls.factories import CALL_SCRIPT, analysis

    result = analysis(CALL_SCRIPT)
    result.insights.summary = "The customer's router keeps dropping.\nNext steps: Agent to send a router by Wed 9 Dec."
    result.insights.action_items = [
        intelligence.ActionItem(
            "I will send you a replacement router by Wednesday",
            "agent",
            "by Wednesday",
            3.0,
            "agent",
            verb_phrase="send the customer a replacement router",
            due_date="2026-12-09",
        ),
        intelligence.ActionItem("Please keep the receipts", "customer", None, 5.0, "agent"),
    ]
    call = analysed_call(org, result=result)
    html = web_as("admin").get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "The customer&#x27;s router keeps dropping.<br>Next steps" in html
    assert (
        'title="I will send you a replacement router by Wednesday">Send the customer a replacement router</span>'
        in html
    )
    assert '<time datetime="2026-12-09">Wed 9 Dec</time> — “by Wednesday”' in html
    assert "Please keep the receipts" in html


def test_metrics_read_as_labels_and_units_beside_the_team(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert (
        '<td>Talk ratio (agent)</td><td class="text-end">50%</td><td class="text-end text-secondary">50%</td>' in html
    )
    assert '<td>Silence</td><td class="text-end">20%</td>' in html and "talk_ratio.agent" not in html


def test_review_buttons_on_the_page(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    client.post(reverse("calls:approve", args=[call.pk]))
    assert Call.objects.get(pk=call.pk).review_state == "approved"
    client.post(reverse("calls:correct", args=[call.pk]), {"summary": "Corrected."})
    assert Call.objects.get(pk=call.pk).summary == "Corrected."
    client.post(reverse("calls:task", args=[call.pk]), {"index": "0"})
    from octopushx.crm.models import Task

    assert Task.objects.filter(title="Send the receipt by Friday").exists()


def test_failed_call_page_shows_the_reason_and_retry(org, web_as):
    client = web_as("admin")
    call = Call.objects.create(tenant=org, status=CallStatus.FAILED, failure_reason="Not an audio file")
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "Not an audio file" in html and reverse("calls:retry", args=[call.pk]) in html


def test_auditor_cannot_use_write_pages(org, web_as):
    client = web_as("auditor")
    call = analysed_call(org)
    assert client.get(reverse("calls:upload")).status_code == 403
    assert client.post(reverse("calls:approve", args=[call.pk])).status_code == 403
    assert client.get(reverse("calls:settings")).status_code == 403
    assert Call.objects.get(pk=call.pk).review_state == "unreviewed"


def test_another_tenants_call_page_is_404(web_as, other_org):
    call = analysed_call(other_org)
    assert web_as("owner").get(reverse("calls:detail", args=[call.pk])).status_code == 404


def test_upload_page_loads_its_script(web_as):
    html = web_as("agent").get(reverse("calls:upload")).content.decode()
    assert "calls/upload.js" in html and "data-call-upload" in html and "multiple" in html


def test_search_page_highlights_hits_and_links_to_the_moment(org, web_as):
    call = analysed_call(org, lines=[("customer", "My boiler is broken")])
    html = web_as("admin").get(reverse("calls:search") + "?q=boiler").content.decode()
    assert "<mark>boiler</mark>" in html
    assert f"{reverse('calls:detail', args=[call.pk])}?t=0#line-0" in html


def test_original_view_on_the_page_is_audited(org, web_as):
    call = analysed_call(org)
    web_as("owner").get(reverse("calls:detail", args=[call.pk]) + "?original=1")
    assert AuditEntry.objects.filter(action="call.original_viewed").count() == 1


def test_settings_page_saves_and_shows_webhook_urls(org, web_as):
    client = web_as("admin")
    html = client.get(reverse("calls:settings")).content.decode()
    assert f"/calls/webhooks/{org.pk}/twilio" in html
    response = client.post(
        reverse("calls:settings"), {"max_upload_mb": "20", "max_duration_minutes": "30", "webhook_secret": "abc"}
    )
    assert response.status_code == 302
    from octopushx.calls import services

    assert services.call_settings(org).max_upload_mb == 20
    assert services.credential(org, "webhook_secret") == "abc"


def test_nav_links_to_calls(web_as):
    assert reverse("calls:list") in web_as("agent").get(reverse("home"), follow=True).content.decode()
