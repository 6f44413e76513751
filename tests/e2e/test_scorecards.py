"""QA scorecards in a real browser: a reviewer fills the call's scorecard from the AI suggestions
and submits; the agent acknowledges one score and disputes another; the reviewer resolves it."""

from __future__ import annotations

import pytest

from octopushx.calls.models import CallScore, ScoreState
from octopushx.calls.services import scorecards
from octopushx.tenancy.models import Team
from tests.calls.factories import analysed_call
from tests.conftest import make_member, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _people():
    org = make_org("Acme Support")
    team = Team.objects.create(tenant=org, name="Support")
    manager = make_member(org, "manager", email="qa-manager@example.test")
    agent = make_member(org, "agent", email="qa-agent@example.test")
    for member in (manager, agent):
        member.team = team
        member.save()
    card = scorecards.ensure_example(org)
    return org, manager, agent, card


def _fill_and_submit(page, call, card):
    page.goto(f"/calls/{call.pk}/")
    panel = page.get_by_test_id("qa-panel")
    panel.get_by_text("Support call quality").first.wait_for()
    greeting = panel.locator('[data-question="greeting"]')
    assert "AI suggestion" in greeting.inner_text()
    assert greeting.locator("[data-qa-seek]").count() >= 1  # the evidence line
    assert greeting.locator('input[value="yes"]').is_checked()  # pre-selected from the suggestion
    # the questions the AI had no evidence for: the reviewer answers them
    for question, answer in (("asked_name", "skip"), ("verification", "skip"), ("no_interruptions", "yes")):
        panel.locator(f'[data-question="{question}"] label[for$="-{question}-{answer}"]').click()
    panel.locator('[data-question="empathy"] label[for$="-empathy-no"]').click()
    panel.locator('[data-question="closing"] label[for$="-closing-yes"]').click()
    panel.locator('[data-question="tone"] label[for$="-tone-warm"]').click()
    panel.get_by_role("button", name="Submit to the agent").click()
    panel.get_by_test_id("qa-notice").get_by_text("Submitted").wait_for()
    assert CallScore.objects.get(call=call, scorecard=card).state == ScoreState.SUBMITTED


def test_reviewer_submits_agent_acknowledges_and_disputes(new_page, signed_in):
    org, manager, agent, card = _people()
    first = analysed_call(org, agent=agent.user)
    second = analysed_call(org, agent=agent.user)

    reviewer_page = new_page()
    signed_in(reviewer_page, manager.user)
    _fill_and_submit(reviewer_page, first, card)
    _fill_and_submit(reviewer_page, second, card)

    agent_page = new_page()
    signed_in(agent_page, agent.user)
    agent_page.goto("/calls/reviews/?view=acknowledge")
    assert agent_page.get_by_test_id("reviews").locator("tbody tr").count() == 2

    agent_page.goto(f"/calls/{first.pk}/")
    panel = agent_page.get_by_test_id("qa-panel")
    panel.get_by_role("button", name="Acknowledge").click()
    panel.get_by_text("You acknowledged the score.").wait_for()
    assert CallScore.objects.get(call=first).state == ScoreState.ACKNOWLEDGED

    agent_page.goto(f"/calls/{second.pk}/")
    panel = agent_page.get_by_test_id("qa-panel")
    panel.get_by_text("Dispute an answer", exact=True).click()
    panel.get_by_role("button", name="Send the dispute").click()  # no comment: refused, nothing saved
    panel.get_by_test_id("qa-errors").get_by_text("Say why you dispute this answer").wait_for()
    assert CallScore.objects.get(call=second).state == ScoreState.SUBMITTED
    panel.get_by_text("Dispute an answer", exact=True).click()
    panel.get_by_label("Answer", exact=True).select_option("empathy")
    panel.get_by_label("Why it is wrong").fill("I said I was sorry at 0:05")
    panel.get_by_role("button", name="Send the dispute").click()
    panel.get_by_text("Your dispute is sent to the reviewer.").wait_for()
    assert CallScore.objects.get(call=second).state == ScoreState.DISPUTED

    reviewer_page.goto("/calls/reviews/?view=disputes")
    reviewer_page.get_by_test_id("reviews").get_by_role("link").first.click()
    panel = reviewer_page.get_by_test_id("qa-panel")
    resolve = panel.get_by_test_id("qa-resolve")
    resolve.get_by_label("Answer", exact=True).select_option("yes")
    resolve.get_by_label("Your reply to the agent").fill("You did, changed to yes")
    resolve.get_by_role("button", name="Resolve").click()
    panel.get_by_text("Dispute resolved. The score is final.").wait_for()
    score = CallScore.objects.get(call=second)
    assert score.state == ScoreState.FINAL
    assert score.answers["empathy"]["value"] == "yes"
