"""Editing a custom field on its page: label, a select field's options, required; key and type stay."""

from django.urls import reverse

from octopushx.core.context import Actor
from octopushx.core.models import AuditEntry
from octopushx.crm import services
from octopushx.crm.models import CustomField


def plan_field(org):
    return services.create_custom_field(
        org, Actor.system("test"), {"object_type": "contact", "label": "Plan", "field_type": "select",
                                    "options": ["Free", "Team"]}
    )  # fmt: skip


def test_relabel_add_an_option_and_require_it(web_as, org):
    field = plan_field(org)
    client = web_as("admin")
    assert 'value="Plan"' in client.get(reverse("crm:custom_field_edit", args=[field.pk])).content.decode()
    response = client.post(
        reverse("crm:custom_field_edit", args=[field.pk]),
        {"label": "Subscription", "options": "Free\nTeam\nEnterprise", "required": "on"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.options, field.required, field.key) == (
        "Subscription", ["Free", "Team", "Enterprise"], True, "plan"
    )  # fmt: skip
    assert AuditEntry.objects.filter(tenant=org, action="custom_field.updated").exists()


def test_a_select_field_without_options_is_refused_and_unchanged(web_as, org):
    field = plan_field(org)
    response = web_as("admin").post(
        reverse("crm:custom_field_edit", args=[field.pk]), {"label": "Renamed", "options": "  \n "}
    )
    assert response.status_code == 422 and "at least one option" in response.content.decode()
    field.refresh_from_db()
    assert (field.label, field.options) == ("Plan", ["Free", "Team"])


def test_a_text_field_has_no_options_to_edit(web_as, org):
    field = services.create_custom_field(
        org, Actor.system("test"), {"object_type": "company", "label": "Notes", "field_type": "text"}
    )
    page = web_as("admin").get(reverse("crm:custom_field_edit", args=[field.pk])).content.decode()
    assert 'name="options"' not in page and 'name="label"' in page


def test_only_admins_and_only_their_own_tenants_fields(web_as, org, other_org):
    mine, theirs = plan_field(org), plan_field(other_org)
    assert web_as("manager").get(reverse("crm:custom_field_edit", args=[mine.pk])).status_code == 403
    admin = web_as("admin")
    response = admin.post(reverse("crm:custom_field_edit", args=[theirs.pk]), {"label": "Mine", "options": "A"})
    assert response.status_code == 404 and CustomField.objects.get(pk=theirs.pk).label == "Plan"
