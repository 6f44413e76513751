"""Factories for the CRM's path parameters, used by tests/test_cross_tenant.py."""

from __future__ import annotations

from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import CustomField, Export, Import, SavedView


def _actor(user) -> Actor:
    return Actor(user=user, label_override="cross-tenant test")


def _contact(tenant, user):
    return services.create_contact(
        tenant, _actor(user), {"first_name": "Bea", "email": "bea@tenant-b.example", "owner_id": str(user.pk)}
    ).pk


def _company(tenant, user):
    return services.create_company(tenant, _actor(user), {"name": "B Corp", "owner_id": str(user.pk)}).pk


def _deal(tenant, user):
    return services.create_deal(tenant, _actor(user), {"name": "B deal", "owner_id": str(user.pk)}).pk


def _pipeline(tenant, user):
    return services.create_pipeline(tenant, _actor(user), {"name": "B pipeline"}).pk


def _stage(tenant, user):
    return services.default_pipeline(tenant).stages.first().pk


def _task(tenant, user):
    return services.create_task(tenant, _actor(user), {"title": "B task", "assignee_id": str(user.pk)}).pk


def _note(tenant, user):
    return services.create_note(tenant, _actor(user), {"body": "B note"}).pk


def _custom_field(tenant, user):
    # A new key each time: the page walks ask for a field once per route that takes one.
    label = f"B field {CustomField.objects.filter(tenant=tenant).count() + 1}"
    return services.create_custom_field(
        tenant, _actor(user), {"object_type": "contact", "label": label, "field_type": "text"}
    ).pk


def _import(tenant, user):
    return Import.objects.create(tenant=tenant, filename="b.csv", created_by=user).pk


def _export(tenant, user):
    return Export.objects.create(tenant=tenant, object_type="contact", created_by=user).pk


def _view(tenant, user):
    return SavedView.objects.create(tenant=tenant, object_type="contact", name="B view", owner=user).pk


def _merge(tenant, user):
    from octopushx.crm import dedupe
    from octopushx.crm.models import Contact

    keep = Contact.objects.get(pk=_contact(tenant, user))
    remove = Contact.objects.get(pk=_contact(tenant, user))
    return dedupe.merge(tenant, _actor(user), keep, remove).pk


FACTORIES = {
    "contact_id": _contact,
    "company_id": _company,
    "deal_id": _deal,
    "pipeline_id": _pipeline,
    "stage_id": _stage,
    "task_id": _task,
    "note_id": _note,
    "custom_field_id": _custom_field,
    "import_id": _import,
    "export_id": _export,
    "view_id": _view,
    "merge_id": _merge,
}
