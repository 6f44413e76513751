"""CRM operations shared by the API, the web UI, imports and jobs.

Each function takes ``(tenant, actor, ...)``, validates (``ValidationError`` keyed by
field), writes in one transaction, records an audit entry with the changed fields and
emits a domain event carrying ids only. The package keeps one flat namespace:
``services.create_contact`` whichever module defines it.
"""

from __future__ import annotations

from octopushx.crm.services._shared import (
    ADDRESS_FIELDS,
    COMPANY_TEXT,
    CONTACT_TEXT,
    CURRENCY,
    DEFAULT_STAGES,
    MAX_VALUE,
    custom_definitions,
    get_or_create_tags,
    membership_of,
)
from octopushx.crm.services.activities import (
    complete_task,
    create_note,
    create_task,
    delete_note,
    delete_task,
    due_reminders,
    note_snapshot,
    send_reminder,
    task_snapshot,
    update_note,
    update_task,
)
from octopushx.crm.services.companies import (
    company_snapshot,
    create_company,
    delete_company,
    update_company,
)
from octopushx.crm.services.contacts import (
    change_tags,
    clean_contact,
    contact_snapshot,
    create_contact,
    delete_contact,
    update_contact,
)
from octopushx.crm.services.deals import (
    create_deal,
    create_pipeline,
    deal_snapshot,
    default_pipeline,
    delete_deal,
    delete_pipeline,
    move_deal,
    pipeline_snapshot,
    update_deal,
    update_pipeline,
)
from octopushx.crm.services.setup import (
    create_custom_field,
    custom_field_snapshot,
    delete_custom_field,
    delete_view,
    save_view,
    update_custom_field,
    update_settings,
)

__all__ = [
    "change_tags",
    "ADDRESS_FIELDS",
    "COMPANY_TEXT",
    "CONTACT_TEXT",
    "CURRENCY",
    "DEFAULT_STAGES",
    "MAX_VALUE",
    "clean_contact",
    "company_snapshot",
    "complete_task",
    "contact_snapshot",
    "create_company",
    "create_contact",
    "create_custom_field",
    "create_deal",
    "create_note",
    "create_pipeline",
    "create_task",
    "custom_definitions",
    "custom_field_snapshot",
    "deal_snapshot",
    "default_pipeline",
    "delete_company",
    "delete_contact",
    "delete_custom_field",
    "delete_deal",
    "delete_note",
    "delete_pipeline",
    "delete_task",
    "delete_view",
    "due_reminders",
    "get_or_create_tags",
    "membership_of",
    "move_deal",
    "note_snapshot",
    "pipeline_snapshot",
    "save_view",
    "send_reminder",
    "task_snapshot",
    "update_company",
    "update_contact",
    "update_custom_field",
    "update_deal",
    "update_note",
    "update_pipeline",
    "update_settings",
    "update_task",
]
