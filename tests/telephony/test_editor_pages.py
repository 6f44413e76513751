"""The block editor on the flow page: create, change, reorder, add and remove blocks through the form.

Each test reads the editor's form out of the page as a browser would submit it, changes fields and
posts it with the button's action; only "save" writes, and a flow with errors saves nothing.
"""

from __future__ import annotations

from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.telephony import services
from octopushx.telephony.models import CallFlow
from octopushx.tenancy.roles import Role
from tests.telephony.editor_form import Form
from tests.telephony.samples import support_line


def _flow(org):
    row, _ = services.create_flow(org, Actor.system("test"), support_line())
    return row


def _editor(client, url) -> Form:
    page = client.get(url)
    assert page.status_code == 200
    return Form(page.content.decode())


def test_the_editor_shows_every_block_as_a_card_with_its_fields(line_org, web_as):
    row = _flow(line_org)
    html = web_as(Role.ADMIN).get(reverse("telephony:flow", args=[row.pk])).content.decode()
    form = Form(html)
    assert form.get("blocks-count") == "5"
    assert form.get("blocks-0-type") == "hours" and form.get("blocks-0-schedule-mon") == "09:00-17:30"
    assert form.get("blocks-0-holidays") == "GB" and form.get("blocks-0-open") == "menu"
    assert form.get("blocks-1-options-0-key") == "1" and form.get("blocks-1-options-0-target") == "billing"
    assert form.getlist("blocks-2-members") == ["owner@acme.test"]
    assert form.get("blocks-3-team") == "Support" and form.get("blocks-3-strategy") == "longest_idle"
    assert "Advanced: JSON" in html


def test_saving_the_form_unchanged_keeps_the_definition(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    response = client.post(url, _editor(client, url).post_data("save"))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revision == 1  # nothing changed, so no new revision


def test_an_admin_creates_a_flow_through_the_form(line_org, web_as):
    client = web_as(Role.ADMIN)
    form = _editor(client, reverse("telephony:new"))
    form.set("name", "Sales line")
    response = client.post(reverse("telephony:new"), form.post_data("save"))
    row = CallFlow.objects.get(tenant=line_org, name="Sales line")
    assert response.status_code == 302 and response["Location"] == reverse("telephony:flow", args=[row.pk])
    assert [b["type"] for b in row.definition["blocks"]] == ["hours", "greeting", "ring_group", "voicemail"]


def test_editing_a_block_saves_a_new_revision(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url)
    form.set("blocks-1-say", "Press 1 for accounts.").set("blocks-1-timeout_s", "6")
    form.set("blocks-0-schedule-sat", "10:00-12:00, 13:00-14:00")
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    menu = row.definition["blocks"][1]
    assert (row.revision, menu["say"], menu["timeout_s"]) == (2, "Press 1 for accounts.", 6)
    assert row.definition["blocks"][0]["schedule"]["sat"] == ["10:00-12:00", "13:00-14:00"]


def test_a_menu_option_is_added_in_the_empty_row(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url)
    assert form.get("blocks-1-options-count") == "3"  # two options and an empty row
    form.set("blocks-1-options-2-key", "9").set("blocks-1-options-2-target", "vm")
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    assert row.definition["blocks"][1]["options"] == {"1": "billing", "2": "support", "9": "vm"}


def test_moving_a_block_down_changes_the_order_and_saves_nothing(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    response = client.post(url, _editor(client, url).post_data("down:2"))
    assert response.status_code == 200
    moved = Form(response.content.decode())
    assert [moved.get(f"blocks-{i}-id") for i in range(5)] == ["hours", "menu", "support", "billing", "vm"]
    row.refresh_from_db()
    assert row.revision == 1
    assert client.post(url, moved.post_data("save")).status_code == 302
    row.refresh_from_db()
    assert [b["id"] for b in row.definition["blocks"]] == ["hours", "menu", "support", "billing", "vm"]


def test_moving_up_and_setting_the_start(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    response = client.post(url, _editor(client, url).post_data("up:1"))
    form = Form(response.content.decode())
    assert [form.get(f"blocks-{i}-id") for i in range(2)] == ["menu", "hours"]
    form = Form(client.post(url, form.post_data(f"start:{form.index_of('menu')}")).content.decode())
    assert form.get("start") == "menu"
    html = client.post(url, form.post_data("check")).content.decode()
    assert "cannot be reached from &#x27;menu&#x27;" in html  # the hours block is now behind the start


def test_adding_a_block_appends_it_with_a_free_id(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    response = client.post(url, _editor(client, url).post_data("add", new_type="hangup"))
    form = Form(response.content.decode())
    assert form.get("blocks-count") == "6"
    assert (form.get("blocks-5-id"), form.get("blocks-5-type")) == ("hangup", "hangup")
    assert 'data-focus="hangup"' in response.content.decode()
    # Not yet reachable: saving names the block and saves nothing.
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    assert "Block &#x27;hangup&#x27; cannot be reached" in response.content.decode()
    # Pointing the menu's 9 at it makes the flow whole.
    form = Form(response.content.decode())
    form.set("blocks-1-options-2-key", "9").set("blocks-1-options-2-target", "hangup")
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    assert row.definition["blocks"][-1] == {"id": "hangup", "type": "hangup", "label": "",
                                            "say": "Thank you for calling. Goodbye."}  # fmt: skip


def test_removing_a_block_names_the_exits_that_led_to_it(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    response = client.post(url, _editor(client, url).post_data("remove:3"))  # support
    html = response.content.decode()
    form = Form(html)
    assert form.get("blocks-count") == "4"
    assert "Press 2: No block called &#x27;support&#x27;" in html
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    row.refresh_from_db()
    assert row.revision == 1 and len(row.definition["blocks"]) == 5


def test_renaming_a_block_renames_the_exits_to_it(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-4-id", "messages")
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    assert row.definition["blocks"][0]["closed"] == "messages"
    assert row.definition["blocks"][1]["no_input"] == "messages"


def test_an_empty_ring_group_is_named_next_to_its_members_and_nothing_is_saved(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-2-members", [])
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="blocks-2-members-note" data-field="members">The ring group has no members and no team' in html
    row.refresh_from_db()
    assert row.revision == 1 and row.definition["blocks"][2]["members"] == ["owner@acme.test"]


def test_a_menu_option_to_nowhere_is_named_on_the_keys(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-1-options-0-target", "")
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    assert 'data-field="options">Press 1: Choose where the call goes' in response.content.decode()
    assert CallFlow.objects.get(pk=row.pk).revision == 1


def test_a_number_out_of_range_is_named_on_its_field(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-1-timeout_s", "99")
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="blocks-1-timeout_s-note" data-field="timeout_s">Input should be less than or equal to 30' in html
    assert Form(html).get("blocks-1-timeout_s") == "99"  # shown as typed
    assert CallFlow.objects.get(pk=row.pk).revision == 1


def test_a_key_used_twice_is_refused(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-1-options-2-key", "1").set("blocks-1-options-2-target", "vm")
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    assert "Key 1 is used twice" in response.content.decode()


def test_a_schedule_that_never_opens_is_a_warning_and_saves(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        form.set(f"blocks-0-schedule-{day}", "")
    html = client.post(url, form.post_data("check")).content.decode()
    assert "The schedule never opens" in html and "Can be saved, with 1 warning" in html
    assert client.post(url, form.post_data("save")).status_code == 302
    row.refresh_from_db()
    assert row.definition["blocks"][0]["schedule"] == {}


def test_a_bad_time_range_is_named_on_the_schedule(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-0-schedule-mon", "9 to 5")
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    assert 'data-field="schedule">' in response.content.decode()


def test_a_name_taken_by_another_flow_is_named_on_the_name(line_org, web_as):
    _flow(line_org)
    client = web_as(Role.ADMIN)
    form = _editor(client, reverse("telephony:new")).set("name", "Support line")
    response = client.post(reverse("telephony:new"), form.post_data("save"))
    assert response.status_code == 422
    assert 'id="flow-name-error">A flow called &#x27;Support line&#x27; exists' in response.content.decode()
    assert CallFlow.objects.filter(tenant=line_org).count() == 1


def test_htmx_gets_the_editor_alone_and_a_redirect_after_saving(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url)
    partial = client.post(url, form.post_data("down:0"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and partial.content.decode().lstrip().startswith("<form")
    saved = client.post(url, form.post_data("save"), HTTP_HX_REQUEST="true")
    assert saved.status_code == 204 and saved["HX-Redirect"] == url


def test_a_manager_sees_the_flow_read_only_and_cannot_post_the_editor(line_org, web_as):
    row = _flow(line_org)
    admin_form = _editor(web_as(Role.ADMIN), reverse("telephony:flow", args=[row.pk]))
    client = web_as(Role.MANAGER)
    html = client.get(reverse("telephony:flow", args=[row.pk])).content.decode()
    assert 'id="flow-editor"' not in html and 'data-block="menu"' in html
    assert client.post(reverse("telephony:flow", args=[row.pk]), admin_form.post_data("save")).status_code == 403
    assert client.get(reverse("telephony:new")).status_code == 403


def test_an_agent_cannot_post_the_editor(line_org, web_as):
    row = _flow(line_org)
    form = _editor(web_as(Role.ADMIN), reverse("telephony:flow", args=[row.pk]))
    response = web_as(Role.AGENT).post(reverse("telephony:flow", args=[row.pk]), form.post_data("down:0"))
    assert response.status_code == 403


def test_another_organisations_flow_is_404_to_the_editor(line_org, other_org, web_as):
    row = _flow(line_org)
    form = _editor(web_as(Role.ADMIN), reverse("telephony:flow", args=[row.pk]))
    response = web_as(Role.OWNER, tenant=other_org).post(
        reverse("telephony:flow", args=[row.pk]), form.post_data("save")
    )
    assert response.status_code == 404
    assert CallFlow.objects.get(pk=row.pk).revision == 1


def test_a_tampered_block_type_is_an_error_not_a_crash(line_org, web_as):
    row = _flow(line_org)
    client = web_as(Role.ADMIN)
    url = reverse("telephony:flow", args=[row.pk])
    form = _editor(client, url).set("blocks-4-type", "teleport")
    response = client.post(url, form.post_data("save"))
    assert response.status_code == 422
    assert CallFlow.objects.get(pk=row.pk).revision == 1


def test_a_new_flow_records_calls_with_the_disclosure_by_default(line_org, web_as):
    client = web_as(Role.ADMIN)
    form = _editor(client, reverse("telephony:new"))
    assert form.get("recording_enabled") == "on"
    assert form.get("recording_disclosure") == "This call may be recorded for quality and training."
    form.set("name", "Recorded line")
    assert client.post(reverse("telephony:new"), form.post_data("save")).status_code == 302
    assert CallFlow.objects.get(name="Recorded line").definition["recording"]["enabled"] is True
