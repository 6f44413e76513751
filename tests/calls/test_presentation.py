"""How calls read to people: titles, national numbers, m:ss durations, sentiment labels."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from octopushx.calls.models import Call
from octopushx.calls.services import presentation
from tests.calls.factories import analysed_call


def test_number_is_national_in_its_own_country_and_international_elsewhere():
    assert presentation.display_number("+442079460013", "GB") == "020 7946 0013"
    assert presentation.display_number("+12025550143", "GB") == "+1 202-555-0143"
    assert presentation.display_number("", "GB") == ""


def test_durations_read_as_minutes_and_seconds():
    assert presentation.minutes_seconds(20.5) == "0:20"
    assert presentation.minutes_seconds(125) == "2:05"
    assert presentation.minutes_seconds(3725) == "1:02:05"
    assert presentation.minutes_seconds(None) == "0:00"


def test_sentiment_reads_as_a_label():
    assert presentation.sentiment_label(0.18) == ("Positive", "success")
    assert presentation.sentiment_label(-0.01) == ("Neutral", "secondary")
    assert presentation.sentiment_label(-0.4) == ("Negative", "danger")


def test_title_names_the_number_and_time_never_the_file(org):
    started = datetime(2020, 11, 25, 3, 39, tzinfo=UTC)
    call = Call.objects.create(
        tenant=org, from_number="+442079460013", filename="billing_dispute.stereo.wav", started_at=started
    )
    assert call.title == "Inbound call from 020 7946 0013 · 25 Nov 2020 03:39"
    bare = Call.objects.create(tenant=org, direction="outbound", filename="billing_dispute.stereo.wav")
    assert bare.title.startswith("Outbound call · ") and "wav" not in bare.title


def test_call_page_shows_labels_names_and_mmss_not_raw_values(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    Call.objects.filter(pk=call.pk).update(from_number="+442079460013", duration=20.5)
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "020 7946 0013" in html and "unknown → unknown" not in html
    assert "0:20" in html and "20.5 s" not in html
    assert "Positive" in html and "0.30" not in html and "0.40" not in html
    assert call.agent is None or call.agent.email not in html


def test_list_shows_sentiment_badges_names_and_its_order(org, web_as):
    client = web_as("admin")
    older = analysed_call(org)
    newer = analysed_call(org)
    Call.objects.filter(pk=older.pk).update(started_at=datetime(2026, 1, 1, tzinfo=UTC), sentiment=0.18)
    Call.objects.filter(pk=newer.pk).update(started_at=datetime(2026, 2, 1, tzinfo=UTC), sentiment=-0.4)
    html = client.get(reverse("calls:list")).content.decode()
    assert "Newest first" in html
    assert html.index(str(newer.pk)) < html.index(str(older.pk))
    assert ">Positive</span>" in html and ">Negative</span>" in html and "0.18" not in html
