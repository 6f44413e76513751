"""The pipeline board: compact cards (money, owner initials, close date, days in stage, stale
marker), a "Move to" menu on each card for those who may move deals, totals per stage."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.urls import reverse
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import Deal
from octopushx.crm.views import deals as deal_views
from tests.conftest import make_member

from .conftest import make_deal


def _board(client) -> str:
    return client.get(reverse("crm:board")).content.decode()


def test_a_card_shows_money_owner_initials_and_close_date(web_as, org):
    owner = make_member(org, "agent", email="sam.agent@example.test")
    owner.user.full_name = "Sam Agent"
    owner.user.save()
    make_deal(org, owner=owner, name="Silver Print", value="12500", expected_close="2099-03-26")
    page = _board(web_as("admin"))
    assert "£12,500" in page and "12,500.00" not in page
    assert '<span aria-hidden="true">SA</span><span class="visually-hidden">Owner: Sam Agent</span>' in page
    assert "26 Mar 2099" in page


def test_a_column_totals_its_deals_in_the_organisations_currency(web_as, org):
    first = make_deal(org, name="One", value="1000")
    make_deal(org, name="Two", value="2500.50")
    page = _board(web_as("admin"))
    column = page.split(f'data-stage-id="{first.stage_id}"')[1].split("</header>")[0]
    assert "<span data-count>2</span>" in column and "<strong data-total>£3,500.50</strong>" in column


def _days_later(monkeypatch, days: int) -> None:
    """The board's clock, ``days`` from now (the audit trail's times cannot be rewritten)."""
    later = timezone.now() + timedelta(days=days)
    monkeypatch.setattr(deal_views, "timezone", SimpleNamespace(now=lambda: later))


def test_days_in_stage_count_from_the_last_stage_change(web_as, org, monkeypatch):
    deal = make_deal(org, name="Moved lately")
    Deal.objects.filter(pk=deal.pk).update(created_at=timezone.now() - timedelta(days=90))
    services.move_deal(org, Actor.system("test"), deal, deal.pipeline.stages.get(name="Proposal").pk)
    _days_later(monkeypatch, 4)
    page = _board(web_as("admin"))
    card = page.split(f'data-deal-id="{deal.pk}"')[1].split("</li>")[0]
    assert "4d<span" in card and "Stale" not in card and "is-stale" not in page


def test_an_open_deal_unmoved_for_30_days_is_stale(web_as, org):
    deal = make_deal(org, name="Sleepy")
    Deal.objects.filter(pk=deal.pk).update(created_at=timezone.now() - timedelta(days=45))
    page = _board(web_as("admin"))
    card = page.split(f'data-deal-id="{deal.pk}"')[1].split("</li>")[0]
    assert "45d<span" in card and "Stale" in card and "No stage change for 45 days" in card


def test_a_won_deal_is_never_stale(web_as, org, monkeypatch):
    deal = make_deal(org, name="Closed long ago")
    services.move_deal(org, Actor.system("test"), deal, deal.pipeline.stages.get(name="Won").pk)
    _days_later(monkeypatch, 300)
    card = _board(web_as("admin")).split(f'data-deal-id="{deal.pk}"')[1].split("</li>")[0]
    assert "300d" in card and "Stale" not in card


def test_each_card_has_a_move_to_menu_with_every_stage_and_no_select(web_as, org):
    deal = make_deal(org, name="Menu deal")
    card = _board(web_as("admin")).split(f'data-deal-id="{deal.pk}"')[1].split("</li>")[0]
    assert 'aria-label="Move Menu deal"' in card and "<select" not in card
    for stage in deal.pipeline.stages.all():
        if stage.pk == deal.stage_id:
            assert f'value="{stage.pk}" class="dropdown-item" disabled aria-current="true">{stage.name}<' in card
        else:
            assert f'value="{stage.pk}" class="dropdown-item">{stage.name}<' in card


def test_an_auditor_sees_the_board_without_menus_or_dragging(web_as, org):
    make_deal(org, name="Read only")
    page = _board(web_as("auditor"))
    assert "Read only" in page and "data-move-url" not in page and "data-move-form" not in page


def test_the_menu_form_moves_a_deal_without_script_and_returns_to_the_board(web_as, org):
    deal = make_deal(org, name="No script")
    target = deal.pipeline.stages.get(name="Negotiation")
    board = reverse("crm:pipeline_board", args=[deal.pipeline_id])
    response = web_as("admin").post(reverse("crm:deal_move", args=[deal.pk]), {"stage_id": target.pk, "next": board})
    assert response.status_code == 302 and response["Location"] == board
    assert Deal.objects.get(pk=deal.pk).stage_id == target.pk


def test_moving_another_organisations_deal_is_not_found(web_as, org, other_org):
    theirs = make_deal(other_org, name="Theirs")
    target = theirs.pipeline.stages.get(name="Proposal")
    response = web_as("admin").post(
        reverse("crm:deal_move", args=[theirs.pk]), {"stage_id": target.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert Deal.objects.get(pk=theirs.pk).stage_id != target.pk


def test_an_auditor_cannot_move_a_deal(web_as, org):
    deal = make_deal(org)
    target = deal.pipeline.stages.get(name="Proposal")
    response = web_as("auditor").post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage_id": target.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id


def test_a_move_to_no_stage_is_refused_with_a_message(web_as, org):
    deal = make_deal(org)
    response = web_as("admin").post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage_id": "not-a-stage"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 422 and response.json()["detail"] == "The deal was not moved"
    assert response.json()["errors"]
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id
