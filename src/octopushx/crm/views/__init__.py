"""OctoCRM pages: lists (search, filters, sorting, columns, saved views, bulk actions), detail
pages with the activity timeline and inline edit, forms, the pipeline board, my tasks, search,
imports, exports, duplicates and settings. One module per area; ``crm/urls.py`` uses these names."""

from octopushx.crm.views.cells import company_owner_cell, contact_lifecycle_cell, contact_owner_cell, deal_owner_cell
from octopushx.crm.views.companies import (
    companies_bulk,
    company_delete,
    company_detail,
    company_edit,
    company_list,
    company_new,
)
from octopushx.crm.views.contacts import (
    contact_delete,
    contact_detail,
    contact_edit,
    contact_json,
    contact_list,
    contact_new,
    contacts_bulk,
)
from octopushx.crm.views.deals import (
    board,
    deal_delete,
    deal_detail,
    deal_edit,
    deal_list,
    deal_move,
    deal_new,
    deals_bulk,
    pipeline_board,
)
from octopushx.crm.views.duplicates import duplicates, merge, merge_undo
from octopushx.crm.views.exports import export_detail, export_download, export_list
from octopushx.crm.views.imports import import_detail, import_errors, import_list
from octopushx.crm.views.lists import view_delete, view_save
from octopushx.crm.views.pickers import pick
from octopushx.crm.views.search import search_page
from octopushx.crm.views.setup import (
    custom_field_delete,
    custom_field_edit,
    pipeline_delete,
    pipeline_edit,
    settings_page,
)
from octopushx.crm.views.tasks import note_delete, note_list, note_new, task_complete, task_delete, task_list, task_new

__all__ = [
    "company_owner_cell",
    "contact_lifecycle_cell",
    "contact_owner_cell",
    "deal_owner_cell",
    "board",
    "companies_bulk",
    "company_delete",
    "company_detail",
    "company_edit",
    "company_list",
    "company_new",
    "contact_delete",
    "contact_detail",
    "contact_edit",
    "contact_json",
    "contact_list",
    "contact_new",
    "contacts_bulk",
    "custom_field_delete",
    "custom_field_edit",
    "deal_delete",
    "deal_detail",
    "deal_edit",
    "deal_list",
    "deal_move",
    "deal_new",
    "deals_bulk",
    "duplicates",
    "export_detail",
    "export_download",
    "export_list",
    "import_detail",
    "import_errors",
    "import_list",
    "merge",
    "merge_undo",
    "note_delete",
    "note_new",
    "pick",
    "pipeline_board",
    "pipeline_delete",
    "pipeline_edit",
    "search_page",
    "settings_page",
    "task_complete",
    "task_delete",
    "task_list",
    "note_list",
    "task_new",
    "view_delete",
    "view_save",
]
