from django.urls import path, register_converter
from django.views.generic import RedirectView

from octopushx.crm import views
from octopushx.crm.pickers import KINDS as PICKERS

app_name = "crm"


class PickerConverter:
    """The pickers' searches by name (``contacts``, ``companies``, ``deals``, ``members``); any other is 404."""

    regex = "|".join(PICKERS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PickerConverter, "picker")

urlpatterns = [
    path("", views.contact_list, name="contacts"),
    # The list lives at /crm/; a typed or bookmarked /crm/contacts/ lands there with its filters.
    path("contacts/", RedirectView.as_view(pattern_name="crm:contacts", query_string=True)),
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/bulk/", views.contacts_bulk, name="contacts_bulk"),
    path("contacts/<str:contact_id>/", views.contact_detail, name="contact"),
    path("contacts/<str:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<str:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<str:contact_id>/record.json", views.contact_json, name="contact_json"),
    path("companies/", views.company_list, name="companies"),
    path("companies/new/", views.company_new, name="company_new"),
    path("companies/bulk/", views.companies_bulk, name="companies_bulk"),
    path("companies/<str:company_id>/", views.company_detail, name="company"),
    path("companies/<str:company_id>/edit/", views.company_edit, name="company_edit"),
    path("companies/<str:company_id>/delete/", views.company_delete, name="company_delete"),
    path("deals/", views.deal_list, name="deals"),
    path("deals/new/", views.deal_new, name="deal_new"),
    path("deals/bulk/", views.deals_bulk, name="deals_bulk"),
    path("deals/<str:deal_id>/", views.deal_detail, name="deal"),
    path("deals/<str:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<str:deal_id>/delete/", views.deal_delete, name="deal_delete"),
    path("deals/<str:deal_id>/move/", views.deal_move, name="deal_move"),
    # A list cell edited in place (owner, lifecycle stage).
    path("contacts/<str:contact_id>/cell/owner/", views.contact_owner_cell, name="contact_owner_cell"),
    path("contacts/<str:contact_id>/cell/lifecycle/", views.contact_lifecycle_cell, name="contact_lifecycle_cell"),
    path("companies/<str:company_id>/cell/owner/", views.company_owner_cell, name="company_owner_cell"),
    path("deals/<str:deal_id>/cell/owner/", views.deal_owner_cell, name="deal_owner_cell"),
    path("board/", views.board, name="board"),
    path("pipelines/<str:pipeline_id>/board/", views.pipeline_board, name="pipeline_board"),
    path("pipelines/<str:pipeline_id>/edit/", views.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<str:pipeline_id>/delete/", views.pipeline_delete, name="pipeline_delete"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/<str:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<str:task_id>/delete/", views.task_delete, name="task_delete"),
    path("notes/", views.note_list, name="notes"),
    path("notes/new/", views.note_new, name="note_new"),
    path("notes/<str:note_id>/delete/", views.note_delete, name="note_delete"),
    path("search/", views.search_page, name="search"),
    path("pick/<picker:kind>/", views.pick, name="pick"),
    path("views/", views.view_save, name="view_save"),
    path("views/<str:view_id>/delete/", views.view_delete, name="view_delete"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<str:import_id>/", views.import_detail, name="import"),
    path("imports/<str:import_id>/errors.csv", views.import_errors, name="import_errors"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/merge/", views.merge, name="merge"),
    path("duplicates/<str:merge_id>/undo/", views.merge_undo, name="merge_undo"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<str:export_id>/", views.export_detail, name="export"),
    path("exports/<str:export_id>/download/", views.export_download, name="export_download"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/fields/<str:custom_field_id>/edit/", views.custom_field_edit, name="custom_field_edit"),
    path("settings/fields/<str:custom_field_id>/delete/", views.custom_field_delete, name="custom_field_delete"),
]
