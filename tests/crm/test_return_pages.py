"""After a form, a page goes back where the member came from, and only ever to this site."""

import pytest
from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.crm import services

from .conftest import make_contact, make_deal

ELSEWHERE = ["//evil.example/", "/\\evil.example/", "https://evil.example/", "javascript:alert(1)"]


def test_bulk_action_returns_to_the_filtered_list(web_as, org):
    client = web_as("admin")
    contact = make_contact(org)
    back = reverse("crm:contacts") + "?q=ada"
    response = client.post(
        reverse("crm:contacts_bulk"), {"action": "add_tag", "tag": "vip", "ids": [contact.pk], "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back


@pytest.mark.parametrize("target", ELSEWHERE)
def test_bulk_action_never_returns_to_another_site(web_as, org, target):
    client = web_as("admin")
    contact = make_contact(org)
    response = client.post(
        reverse("crm:contacts_bulk"), {"action": "add_tag", "tag": "vip", "ids": [contact.pk], "next": target}
    )
    assert response.status_code == 302 and response["Location"] == reverse("crm:contacts")
    assert [t.name for t in contact.tags.all()] == ["vip"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_moving_a_deal_never_returns_to_another_site(web_as, org, target):
    client = web_as("admin")
    deal = make_deal(org)
    stage = deal.pipeline.stages.exclude(pk=deal.stage_id).first()
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage_id": stage.pk, "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:pipeline_board", args=[deal.pipeline_id])


@pytest.mark.parametrize("target", ELSEWHERE)
def test_completing_a_task_never_returns_to_another_site(web_as, org, target):
    client = web_as("admin")
    task = services.create_task(org, Actor.system("test"), {"title": "Call back"})
    response = client.post(reverse("crm:task_complete", args=[task.pk]), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("crm:tasks")
