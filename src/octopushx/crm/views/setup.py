"""CRM settings: record visibility, currency, custom fields and pipelines."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from octopushx.crm import services
from octopushx.crm.forms import CustomFieldEditForm, CustomFieldForm, PipelineForm
from octopushx.crm.models import CustomField, FieldType, HiddenMatch, Pipeline, StageKind, Visibility
from octopushx.crm.views._shared import _errors_text
from octopushx.crm.visibility import crm_settings
from octopushx.tenancy.roles import Perm, has_perm
from octopushx.tenancy.views import requires

# Its forms show a forbidden character as an error on the field (core.text.FormTextMiddleware).
FORMS_CHECK_TEXT = True


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
                    import_hidden_matches=request.POST.get("import_hidden_matches", ""),
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
            "hidden_matches": HiddenMatch.choices,
            "is_admin": is_admin,
            "custom_fields": CustomField.objects.for_tenant(request.tenant),
            "pipelines": Pipeline.objects.for_tenant(request.tenant).prefetch_related("stages"),
            "field_form": field_form,
            "pipeline_form": pipeline_form,
        },
        status=status,
    )


@requires(Perm.ADMIN)
def custom_field_edit(request, custom_field_id):
    """Relabel a custom field, change a select field's options, or make it required."""
    field = CustomField.objects.get_for_tenant(request.tenant, custom_field_id)
    selectable = field.field_type in (FieldType.SELECT, FieldType.MULTI_SELECT)
    initial = {"label": field.label, "options": "\n".join(field.options), "required": field.required}
    form = CustomFieldEditForm(request.POST or None, initial=initial, selectable=selectable)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            services.update_custom_field(request.tenant, request.actor, field, data)
            messages.success(request, f"Custom field {field.label} saved.")
            return redirect("crm:settings")
        except ValidationError as exc:
            form.apply_errors(exc)
            field.refresh_from_db()
    status = 422 if request.method == "POST" else 200
    return render(request, "crm/custom_field_edit.html", {"field": field, "form": form}, status=status)


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


NEW_STAGE_ROWS = 2  # empty rows for stages to add, each time the edit page opens


def _row(key: str, *, id="", name="", probability="", kind=StageKind.OPEN, position="", deals=0, remove=False):
    return {
        "key": key,
        "id": id,
        "name": name,
        "probability": probability,
        "kind": kind,
        "position": position,
        "deals": deals,
        "remove": remove,
        "errors": [],
    }


def _stage_rows(request, pipeline) -> list[dict]:
    """The stage rows of the edit page: the pipeline's, or what was sent when a save failed."""
    if request.method == "POST":
        rows = []
        for key in request.POST.getlist("row"):
            sent = {
                name: request.POST.get(f"{key}-{name}", "").strip()
                for name in ("id", "name", "probability", "kind", "position")
            }
            rows.append(_row(key, **sent, remove=bool(request.POST.get(f"{key}-remove"))))
        return rows
    stages = pipeline.stages.annotate(deal_count=Count("deals")).order_by("position")  # no Meta order with GROUP BY
    rows = [
        _row(
            str(s.pk),
            id=str(s.pk),
            name=s.name,
            probability=s.probability,
            kind=s.kind,
            position=index + 1,
            deals=s.deal_count,
        )
        for index, s in enumerate(stages)
    ]
    return rows + [_row(f"new{n}", position=len(rows) + n + 1) for n in range(NEW_STAGE_ROWS)]


def _in_order(rows: list[dict]) -> list[dict]:
    """The rows to keep, by their position number (a row without a valid one keeps its place)."""
    kept = [row for row in rows if not row["remove"] and (row["id"] or row["name"])]

    def place(item):
        index, row = item
        try:
            return (float(row["position"]), index)
        except (TypeError, ValueError):
            return (float(index + 1), index)

    return [row for _, row in sorted(enumerate(kept), key=place)]


@requires(Perm.ADMIN)
def pipeline_edit(request, pipeline_id):
    """Rename a pipeline; rename, reorder, add or remove its stages. Deals stay on their stages."""
    pipeline = Pipeline.objects.get_for_tenant(request.tenant, pipeline_id)
    rows = _stage_rows(request, pipeline)
    errors: dict = {}
    name, is_default = pipeline.name, pipeline.is_default
    if request.method == "POST":
        name, is_default = request.POST.get("name", ""), bool(request.POST.get("is_default"))
        ordered = _in_order(rows)
        stages = [
            {"id": row["id"] or None, "name": row["name"], "probability": row["probability"] or 0, "kind": row["kind"]}
            for row in ordered
        ]
        try:
            services.update_pipeline(
                request.tenant, request.actor, pipeline, {"name": name, "is_default": is_default, "stages": stages}
            )
            messages.success(request, f"Pipeline {pipeline.name} saved.")
            return redirect("crm:settings")
        except ValidationError as exc:
            for key, found in exc.message_dict.items():
                field, _, rest = key.partition(".")
                index = rest.split(".")[0]
                if field == "stages" and index.isdigit():
                    ordered[int(index)]["errors"].extend(found)
                else:
                    errors.setdefault(field, []).extend(found)
            pipeline.refresh_from_db()
    context = {
        "pipeline": pipeline,
        "rows": rows,
        "kinds": StageKind.choices,
        "errors": errors,
        "name": name,
        "is_default": is_default,
    }
    return render(request, "crm/pipeline_edit.html", context, status=422 if request.method == "POST" else 200)
