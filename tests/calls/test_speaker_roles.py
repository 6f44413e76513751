"""Calls whose speakers' roles are unknown or uncertain: the warning on the page and in what is
shared, per-speaker figures, and no part in the team averages."""

from __future__ import annotations

import json

from django.urls import reverse

from octopushx import intelligence
from octopushx.calls import services
from octopushx.calls.models import CallAnalysisResult
from octopushx.tenancy.models import Membership
from tests.calls.factories import analysed_call, analysis, unsure_roles

WARNING = "could not be told apart as agent and customer"


def _admin(org):
    return Membership.objects.filter(tenant=org).first()


def test_team_averages_leave_out_calls_with_uncertain_roles(org, web_as):
    web_as("admin")
    analysed_call(org)  # channels: agent 50 %
    analysed_call(org, result=unsure_roles())
    team = services.team_averages(org, _admin(org))
    assert team["talk_ratio.agent"] == 0.5
    assert not any(name.endswith(("speaker1", "speaker2")) for name in team)


def test_team_averages_leave_out_old_clustered_calls_whose_roles_were_guessed(org, web_as):
    web_as("admin")
    analysed_call(org)
    guessed = analysis([("agent", "Hi Daniel, I would like to pay"), ("customer", "Thank you for calling")])
    guessed.insights.metrics.talk_ratio = {"agent": 0.77, "customer": 0.23}
    call = analysed_call(org, result=guessed)
    stored = CallAnalysisResult.objects.get(pk=call.current_id)
    stored.data.pop("speakers")  # as saved before the role confidence existed
    stored.data["provenance"]["diarisation"] = "clustering"
    stored.save()
    assert services.team_averages(org, _admin(org))["talk_ratio.agent"] == 0.5


def test_team_averages_keep_calls_whose_roles_came_from_the_greeting(org, web_as):
    web_as("admin")
    confident = analysis([("agent", "Thank you for calling"), ("customer", "I would like to pay")])
    confident.insights.metrics.talk_ratio = {"agent": 0.7, "customer": 0.3}
    confident.provenance.diarisation = "clustering"
    confident.speakers = intelligence.Speakers("clustering", True, "greeting", 0.9, 0.4)
    analysed_call(org, result=confident)
    assert services.team_averages(org, _admin(org))["talk_ratio.agent"] == 0.7


def test_call_page_shows_the_warning_and_figures_per_speaker(org, web_as):
    client = web_as("admin")
    analysed_call(org)
    call = analysed_call(org, result=unsure_roles())
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert 'data-testid="analysis-warning"' in html
    assert WARNING in html
    assert "left out of the team averages" in html
    assert '<td>Talk ratio (Speaker 1)</td><td class="text-end">77%</td><td class="text-end text-secondary">—</td>' in html
    assert "Talk ratio (agent)" not in html
    assert '<strong class="speaker">Speaker 1</strong>' in html
    assert "roles unknown (confidence 0.31)" in html


def test_call_page_of_a_confident_call_has_no_speaker_warning(org, web_as):
    client = web_as("admin")
    call = analysed_call(org)
    html = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert 'data-testid="analysis-warning"' not in html


def test_the_api_says_how_the_speakers_were_told_apart(org, api_as):
    client = api_as("admin")
    call = analysed_call(org, result=unsure_roles())
    body = client.get(f"/api/v1/calls/{call.pk}").json()
    assert body["speakers"]["roles_known"] is False
    assert body["speakers"]["confidence"] == 0.31
    assert any(WARNING in warning for warning in body["warnings"])


def test_shared_summary_carries_the_speaker_warning(org, api_as, mailoutbox):
    client = api_as("admin")
    call = analysed_call(org, result=unsure_roles())
    text = client.get(f"/api/v1/calls/{call.pk}/summary?format=md&confirm_unreviewed=true").content.decode()
    assert "**Warning:**" in text and WARNING in text
    assert "Talk ratio (Speaker 1): 77%" in text
    data = json.loads(client.get(f"/api/v1/calls/{call.pk}/summary?format=json&confirm_unreviewed=true").content)
    assert data["roles_known"] is False
    assert any(WARNING in note for note in data["notes"])
    response = client.post(
        f"/api/v1/calls/{call.pk}/summary/email", {"to": "partner@example.com", "confirm_unreviewed": True}
    )
    assert response.status_code == 200
    assert WARNING in mailoutbox[0].body


def test_shared_summary_of_a_confident_call_has_no_warning(org, api_as):
    client = api_as("admin")
    call = analysed_call(org)
    text = client.get(f"/api/v1/calls/{call.pk}/summary?format=md&confirm_unreviewed=true").content.decode()
    assert "Warning" not in text
