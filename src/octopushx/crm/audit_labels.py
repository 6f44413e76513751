"""How the CRM's audit entries read in Shield's trail: labels for its actions, its records by name."""

from __future__ import annotations

from octopushx.core.audit_labels import labels, names
from octopushx.crm.models import Company, Contact, CustomField, Deal, Pipeline, SavedView, Stage, Tag, Task

labels(
    {
        "contact.created": "Contact created",
        "contact.updated": "Contact updated",
        "contact.deleted": "Contact deleted",
        "contact.imported": "Contacts imported",
        "contact.exported": "Contacts exported",
        "contact.merged": "Contacts merged",
        "contact.merge_undone": "Contact merge undone",
        "company.created": "Company created",
        "company.updated": "Company updated",
        "company.deleted": "Company deleted",
        "company.exported": "Companies exported",
        "deal.created": "Deal created",
        "deal.updated": "Deal updated",
        "deal.deleted": "Deal deleted",
        "deal.stage_changed": "Deal stage changed",
        "deal.exported": "Deals exported",
        "task.created": "Task created",
        "task.updated": "Task updated",
        "task.completed": "Task completed",
        "task.deleted": "Task deleted",
        "note.created": "Note added",
        "note.updated": "Note edited",
        "note.deleted": "Note deleted",
        "pipeline.created": "Pipeline created",
        "pipeline.updated": "Pipeline changed",
        "pipeline.deleted": "Pipeline deleted",
        "custom_field.created": "Custom field added",
        "custom_field.updated": "Custom field changed",
        "custom_field.deleted": "Custom field deleted",
        "saved_view.created": "Saved view created",
        "saved_view.deleted": "Saved view deleted",
        "import.created": "Import uploaded",
        "import.started": "Import started",
        "import.subject_erased": "Import file erased (privacy request)",
        "export.requested": "Export requested",
        "export.subject_erased": "Export file erased (privacy request)",
        "crm.settings_changed": "CRM settings changed",
        "crm.demo_loaded": "Demo data loaded",
    },
    object_types={
        "crm": "CRM",
        "contact": "Contact",
        "company": "Company",
        "deal": "Deal",
        "task": "Task",
        "note": "Note",
        "pipeline": "Pipeline",
        "stage": "Stage",
        "custom_field": "Custom field",
        "customfield": "Custom field",
        "saved_view": "Saved view",
        "savedview": "Saved view",
        "import": "Import",
        "export": "Export",
        "crmsettings": "CRM settings",
        "merge": "Merge",
    },
    fields={"expected_close": "Expected close", "lifecycle_stage": "Lifecycle stage", "due_at": "Due"},
    system_actors={"crm": "CRM", "demo": "Demo data"},
)


@names("contact")
def contact_names(tenant, ids: set[str]) -> dict[str, str]:
    contacts = Contact.objects.filter(tenant=tenant, pk__in=ids).only("first_name", "last_name", "email", "phone")
    return {str(c.pk): c.full_name for c in contacts}


def _by_field(model, field: str):
    def lookup(tenant, ids: set[str]) -> dict[str, str]:
        return {
            str(pk): value for pk, value in model.objects.filter(tenant=tenant, pk__in=ids).values_list("pk", field)
        }

    return lookup


names("company")(_by_field(Company, "name"))
names("deal")(_by_field(Deal, "name"))
names("task")(_by_field(Task, "title"))
names("pipeline")(_by_field(Pipeline, "name"))
names("stage")(_by_field(Stage, "name"))
names("tag")(_by_field(Tag, "name"))
names("customfield")(_by_field(CustomField, "label"))
names("savedview")(_by_field(SavedView, "name"))
