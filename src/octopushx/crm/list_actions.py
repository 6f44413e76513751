"""Bulk actions other products add to the CRM lists' bulk bar (Studio's "Run a workflow…").

The CRM sits below those products, so it never imports them: each app's ``list_actions.py``
(autodiscovered, like ``home.py``) registers a ``ListAction``. The bar offers it with one select
of choices next to it; the CRM's bulk view checks the selected rows (visible to the member, all
found) and hands them to ``handle``, which answers the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class ListAction:
    key: str  # the bulk form's ``action`` value; must not clash with the CRM's own
    label: str
    object_types: tuple[str, ...]
    field: str  # the name of the select that goes with it
    field_label: str
    # (request, object_type) -> [(value, label)]; an empty list hides the action for this member
    choices: Callable[..., list[tuple[str, str]]]
    # (request, object_type, rows, back) -> the response (usually a redirect to ``back``)
    handle: Callable[..., HttpResponse]


_ACTIONS: dict[str, ListAction] = {}
_discovered = False


def register(action: ListAction) -> ListAction:
    _ACTIONS[action.key] = action
    return action


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("list_actions")
        _discovered = True


def get(key: str, object_type: str) -> ListAction | None:
    _discover()
    action = _ACTIONS.get(key)
    return action if action and object_type in action.object_types else None


def offered(request, object_type: str) -> list[dict]:
    """The registered actions this member may use on this list, each with its choices."""
    _discover()
    found = []
    for action in _ACTIONS.values():
        if object_type not in action.object_types:
            continue
        choices = action.choices(request, object_type)
        if choices:
            found.append(
                {
                    "key": action.key,
                    "label": action.label,
                    "field": action.field,
                    "field_label": action.field_label,
                    "choices": choices,
                }
            )
    return found
