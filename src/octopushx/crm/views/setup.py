"""CRM settings: record visibility, currency, custom fields and pipelines."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.crm import services
from octopushx.crm.forms import CustomFieldForm, PipelineForm
from octopushx.crm.models import CustomField, Pipeline, Visibility
from octopushx.crm.views._shared import _errors_text
from octopushx.crm.visibility import crm_settings
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires


@requires(Perm.READ)
def settings_page(request):
    is_admin = has_perm(request.membership.role, Perm.ADMIN)
    field_form = CustomFieldForm(prefix="field")
    pipeline_form = PipelineForm(prefix="pipeline")
    status = 200
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only admins change CRM settings")
        form_name = request.POST.get("form")
        try:
            if form_name == "visibility":
                services.update_settings(
                    request.tenant,
                    request.actor,
                    agent_visibility=request.POST.get("agent_visibility", ""),
                    default_currency=request.POST.get("default_currency", ""),
                )
                messages.success(request, "CRM settings saved.")
                return redirect("crm:settings")
            if form_name == "field":
                field_form = CustomFieldForm(request.POST, prefix="field")
                if field_form.is_valid():
                    try:
                        services.create_custom_field(request.tenant, request.actor, field_form.cleaned_data)
                        messages.success(request, "Custom field added.")
                        return redirect("crm:settings")
                    except ValidationError as exc:
                        field_form.apply_errors(exc)
                status = 422
            if form_name == "pipeline":
                pipeline_form = PipelineForm(request.POST, prefix="pipeline")
                if pipeline_form.is_valid():
                    try:
                        services.create_pipeline(request.tenant, request.actor, pipeline_form.to_data())
                        messages.success(request, "Pipeline added.")
                        return redirect("crm:settings")
                    except ValidationError as exc:
                        pipeline_form.apply_errors(exc)
                status = 422
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
            status = 422
    services.default_pipeline(request.tenant)
    return render(
        request,
        "crm/settings.html",
        {
            "settings": crm_settings(request.tenant),
            "visibilities": Visibility.choices,
            "is_admin": is_admin,
            "custom_fields": CustomField.objects.for_tenant(request.tenant),
            "pipelines": Pipeline.objects.for_tenant(request.tenant).prefetch_related("stages"),
            "field_form": field_form,
            "pipeline_form": pipeline_form,
        },
        status=status,
    )


@requires(Perm.ADMIN)
@require_POST
def custom_field_delete(request, custom_field_id):
    field = CustomField.objects.get_for_tenant(request.tenant, custom_field_id)
    services.delete_custom_field(request.tenant, request.actor, field)
    messages.success(request, f"Custom field {field.label} removed.")
    return redirect("crm:settings")


@requires(Perm.ADMIN)
@require_POST
def pipeline_delete(request, pipeline_id):
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    try:
        services.delete_pipeline(request.tenant, request.actor, pipeline)
        messages.success(request, f"Pipeline {pipeline.name} deleted.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return redirect("crm:settings")
