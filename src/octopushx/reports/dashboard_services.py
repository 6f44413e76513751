"""Custom dashboards: who may see, create, arrange and share them.

- Visibility is that of saved reports: the owner, and when ``shared`` the roles in ``roles``
  (every role when the list is empty). Someone else's personal dashboard is 404, as for another
  tenant's; a shared one whose roles leave the member out is 403.
- Every member who may write keeps personal dashboards; sharing needs a manager, admin or owner.
  The owner changes and deletes a dashboard; admins and owners may change or delete any.
- A widget is a saved report the actor may open (``report_id``) or a ready widget (``widget``:
  ``"sales.win_rate"``) of a dashboard the actor's role may see, with a size (sm, md, lg). Its
  numbers are always those of the viewer's role.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.core.text import strip
from octopushx.reports import services as report_services
from octopushx.reports.models import Dashboard, Report, WidgetSize
from octopushx.tenancy.roles import Perm, Role, has_perm

FIELDS = ("name", "description", "widgets", "roles", "shared")
WIDGET_KEYS = ("id", "report_id", "widget", "size")
MAX_WIDGETS = 40


def visible_dashboards(tenant, membership):
    qs = Dashboard.objects.for_tenant(tenant)
    if membership is None:
        return qs.none()
    return qs.filter(Q(owner_id=membership.user_id) | Q(shared=True))


def can_see(dashboard: Dashboard, membership) -> bool:
    if membership is None:
        return False
    if dashboard.owner_id == membership.user_id:
        return True
    return dashboard.shared and (not dashboard.roles or membership.role in dashboard.roles)


def can_edit(dashboard: Dashboard, membership) -> bool:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        return False
    return dashboard.owner_id == membership.user_id or has_perm(membership.role, Perm.ADMIN)


def dashboards_for(tenant, membership) -> list[Dashboard]:
    """The custom dashboards ``membership`` may open (role lists checked in Python, as for reports)."""
    return [d for d in visible_dashboards(tenant, membership) if can_see(d, membership)]


def get_dashboard(tenant, membership, pk) -> Dashboard:
    """The dashboard, for a member who may open it. Another tenant's, or someone else's personal one:
    404 (their existence is not ours to tell). Shared, but not with the member's role: 403."""
    dashboard = Dashboard.objects.get_for_tenant(tenant, pk)
    if can_see(dashboard, membership):
        return dashboard
    if membership is not None and dashboard.shared:
        labels = dict(Role.choices)
        shown = ", ".join(str(labels.get(r, r)).lower() + "s" for r in dashboard.roles)
        raise PermissionDenied(f"This dashboard is shared with {shown} only")
    raise Http404("No dashboard with that id")


def is_dashboard_id(key: Any) -> bool:
    try:
        uuid.UUID(str(key))
    except ValueError:
        return False
    return True


def ready_widget(key: str):
    """``"sales.win_rate"`` → (the ready dashboard, its widget), or ``None``."""
    from octopushx.reports import dashboards

    slug, _, name = str(key).partition(".")
    board = dashboards.DASHBOARDS.get(slug)
    if board is None:
        return None
    for widget in board.widgets:
        if widget.key == name:
            return board, widget
    return None


def ready_widget_choices(membership) -> list[dict]:
    """Every ready widget the member's role may add, by dashboard."""
    from octopushx.reports import dashboards

    return [
        {
            "key": f"{board.slug}.{widget.key}",
            "title": widget.title,
            "dashboard": board.title,
            "view": widget.view,
            "size": widget.size,
        }
        for board in dashboards.visible_dashboards(membership)
        for widget in board.widgets
    ]


def _require_write(membership) -> None:
    if membership is None or not has_perm(membership.role, Perm.WRITE):
        raise PermissionDenied("Your role reads dashboards but does not create or change them")


def _new_widget_id() -> str:
    return "w" + uuid.uuid4().hex[:10]


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def clean_widget(tenant, membership, raw: Any, path: str, known: dict | None = None) -> dict:
    """One widget entry, checked: the report exists in this tenant and the actor may open it, or
    the ready widget exists and the actor's role may see its dashboard. ``known`` holds the entries
    already on the dashboard: those keep their reference even if the report is gone since."""
    from octopushx.reports import dashboards

    if not isinstance(raw, dict):
        raise ValidationError({path or "body": ["An object with report_id or widget, and size"]})
    unknown = sorted(set(raw) - set(WIDGET_KEYS) - {"position", "title", "kind"})
    if unknown:
        raise ValidationError({_at(path, unknown[0]): [f"Unknown key; a widget has: {', '.join(WIDGET_KEYS)}"]})
    size = raw.get("size") or None
    if size is not None and size not in WidgetSize.values:
        raise ValidationError({_at(path, "size"): [f"One of: {', '.join(WidgetSize.values)}"]})
    widget_id = raw.get("id")
    previous = (known or {}).get(widget_id) if isinstance(widget_id, str) else None
    report_id, ready = raw.get("report_id"), raw.get("widget")
    if previous is not None and report_id is None and ready is None:
        report_id, ready = previous.get("report_id"), previous.get("widget")
    if bool(report_id) == bool(ready):
        raise ValidationError({_at(path, "report_id"): ["Either a report_id or a ready widget key (not both)"]})
    entry: dict[str, Any] = {"id": widget_id if previous is not None else _new_widget_id()}
    if report_id:
        unchanged = previous is not None and previous.get("report_id") == str(report_id)
        if not unchanged:
            try:
                report = Report.objects.get_for_tenant(tenant, report_id)
            except Http404:
                raise ValidationError({_at(path, "report_id"): ["No report with that id"]})
            if not report_services.can_see(report, membership):
                raise ValidationError({_at(path, "report_id"): ["No report with that id"]})
            report_id = report.pk
        entry["report_id"] = str(report_id)
        entry["size"] = size or (previous or {}).get("size") or "md"
    else:
        found = ready_widget(ready) if isinstance(ready, str) else None
        if found is None:
            raise ValidationError({_at(path, "widget"): ["Unknown ready widget; e.g. sales.win_rate"]})
        board, widget = found
        if not dashboards.can_see(membership, board.slug):
            raise ValidationError({_at(path, "widget"): ["Your role cannot see this widget's dashboard"]})
        entry["widget"] = f"{board.slug}.{widget.key}"
        entry["size"] = size or (previous or {}).get("size") or widget.size
    return entry


def _clean(tenant, membership, data: Any, dashboard: Dashboard | None) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"body": ["A JSON object is needed"]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in sorted(set(data) - set(FIELDS)):
        errors[key] = [f"Unknown field; a dashboard has: {', '.join(FIELDS)}"]
    if "name" in data or dashboard is None:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["A name is needed"]
        elif len(name.strip()) > 200:
            errors["name"] = ["At most 200 characters"]
        else:
            values["name"] = strip(name.strip())
    if "description" in data:
        text = data["description"]
        if text is None:
            text = ""
        if not isinstance(text, str) or len(text) > 500:
            errors["description"] = ["Text of at most 500 characters"]
        else:
            values["description"] = strip(text.strip())
    if "widgets" in data:
        raw = data["widgets"]
        if not isinstance(raw, list):
            errors["widgets"] = ["A list of widgets ([...]) is needed"]
        elif len(raw) > MAX_WIDGETS:
            errors["widgets"] = [f"At most {MAX_WIDGETS} widgets"]
        else:
            known = {w["id"]: w for w in (dashboard.widgets if dashboard else []) if isinstance(w, dict) and "id" in w}
            cleaned, seen = [], set()
            for i, item in enumerate(raw):
                try:
                    entry = clean_widget(tenant, membership, item, f"widgets.{i}", known)
                except ValidationError as exc:
                    errors.update(exc.message_dict)
                    continue
                if entry["id"] in seen:
                    errors[f"widgets.{i}.id"] = ["The same widget twice"]
                    continue
                seen.add(entry["id"])
                cleaned.append(entry)
            values["widgets"] = cleaned
    if "roles" in data:
        roles = data["roles"]
        if not isinstance(roles, list) or any(r not in Role.values for r in roles):
            errors["roles"] = [f"A list of roles: {', '.join(Role.values)}"]
        else:
            values["roles"] = sorted(set(roles))
    if "shared" in data:
        if not isinstance(data["shared"], bool):
            errors["shared"] = ["true or false"]
        elif data["shared"] and not has_perm(membership.role if membership else None, Perm.EXPORT):
            raise PermissionDenied("Only managers, admins and owners share dashboards")
        else:
            values["shared"] = data["shared"]
    if errors:
        raise ValidationError(errors)
    return values


def _snapshot(dashboard: Dashboard) -> dict:
    return {name: getattr(dashboard, name) for name in FIELDS}


def create_dashboard(tenant, actor: Actor, membership, data: dict) -> Dashboard:
    """A new dashboard owned by the member; audit ``dashboard.created``."""
    _require_write(membership)
    values = _clean(tenant, membership, data, None)
    with transaction.atomic():
        dashboard = Dashboard.objects.create(tenant=tenant, owner=membership.user, **values)
        audit.record(tenant, actor, "dashboard.created", obj=dashboard, changes=audit.diff({}, _snapshot(dashboard)))
    return dashboard


def update_dashboard(tenant, actor: Actor, membership, dashboard: Dashboard, data: dict) -> Dashboard:
    """Rename, share, or arrange (the whole widget list, in its new order and sizes); audit ``dashboard.updated``."""
    _require_write(membership)
    if not can_edit(dashboard, membership):
        raise PermissionDenied("Only the dashboard's owner, an admin or an owner changes it")
    values = _clean(tenant, membership, data, dashboard)
    old = _snapshot(dashboard)
    with transaction.atomic():
        for name, value in values.items():
            setattr(dashboard, name, value)
        dashboard.save()
        changes = audit.diff(old, _snapshot(dashboard))
        if changes:
            audit.record(tenant, actor, "dashboard.updated", obj=dashboard, changes=changes)
    return dashboard


def add_widget(tenant, actor: Actor, membership, dashboard: Dashboard, data: Any) -> dict:
    """Append one widget (a report or a ready widget) at the end; audit ``dashboard.updated``."""
    _require_write(membership)
    if not can_edit(dashboard, membership):
        raise PermissionDenied("Only the dashboard's owner, an admin or an owner changes it")
    if not isinstance(data, dict):
        raise ValidationError({"body": ["A JSON object is needed"]})
    if len(dashboard.widgets) >= MAX_WIDGETS:
        raise ValidationError({"widgets": [f"At most {MAX_WIDGETS} widgets"]})
    entry = clean_widget(tenant, membership, {k: v for k, v in data.items() if k != "id"}, "")
    old = _snapshot(dashboard)
    with transaction.atomic():
        dashboard.widgets = [*dashboard.widgets, entry]
        dashboard.save()
        audit.record(tenant, actor, "dashboard.updated", obj=dashboard, changes=audit.diff(old, _snapshot(dashboard)))
    return entry


def delete_dashboard(tenant, actor: Actor, membership, dashboard: Dashboard) -> None:
    _require_write(membership)
    if not can_edit(dashboard, membership):
        raise PermissionDenied("Only the dashboard's owner, an admin or an owner deletes it")
    with transaction.atomic():
        audit.record(tenant, actor, "dashboard.deleted", obj=dashboard, changes={"name": [dashboard.name, None]})
        dashboard.delete()


def dashboard_out(dashboard: Dashboard, membership=None) -> dict:
    names = dict(
        Report.objects.filter(
            tenant_id=dashboard.tenant_id, pk__in=[w["report_id"] for w in dashboard.widgets if w.get("report_id")]
        ).values_list("pk", "name")
    )
    widgets = []
    for position, w in enumerate(dashboard.widgets):
        out = {**w, "position": position}
        if w.get("report_id"):
            out["kind"] = "report"
            out["title"] = names.get(uuid.UUID(w["report_id"]))  # None: the report was deleted
        else:
            found = ready_widget(w.get("widget", ""))
            out["kind"] = "ready"
            out["title"] = found[1].title if found else None
        widgets.append(out)
    return {
        "id": str(dashboard.pk),
        "name": dashboard.name,
        "description": dashboard.description,
        "widgets": widgets,
        "roles": dashboard.roles,
        "shared": dashboard.shared,
        "owner_id": str(dashboard.owner_id) if dashboard.owner_id else None,
        "editable": can_edit(dashboard, membership),
        "created_at": dashboard.created_at.isoformat(),
        "updated_at": dashboard.updated_at.isoformat(),
    }
