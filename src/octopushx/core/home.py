"""The home page: each app's ``home.py`` registers panels showing a member what needs them today.

A panel is ``fn(request) -> dict | None``: ``None`` hides it (nothing to show, or the role may
not see it); a dict is the context for its ``template``. Panels are found by autodiscovery, so
core knows no app by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    build: Callable


_PANELS: dict[str, Panel] = {}
_discovered = False


def panel(template: str, order: int = 50) -> Callable:
    """Register ``fn(request)`` as a home panel rendered with ``template``."""

    def register(fn: Callable) -> Callable:
        _PANELS[f"{fn.__module__}.{fn.__qualname__}"] = Panel(order, template, fn)
        return fn

    return register


@dataclass(frozen=True)
class SetupCard:
    title: str
    text: str
    url: str


_SETUP: dict[str, tuple[int, Callable]] = {}


def setup_card(order: int = 50) -> Callable:
    """Register ``fn(request) -> SetupCard | None`` as a card under Home's "Set up" (``None``: not for this member)."""

    def register(fn: Callable) -> Callable:
        _SETUP[f"{fn.__module__}.{fn.__qualname__}"] = (order, fn)
        return fn

    return register


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("home")
        _discovered = True


def setup_cards(request) -> list[SetupCard]:
    """The set-up cards this member may act on, in order."""
    _discover()
    if getattr(request, "tenant", None) is None:
        return []
    cards = (build(request) for _, build in sorted(_SETUP.values(), key=lambda item: item[0]))
    return [card for card in cards if card is not None]


def render_panels(request) -> list[SafeString]:
    """The member's panels as HTML, in order; empty without a tenant."""
    _discover()
    if getattr(request, "tenant", None) is None:
        return []
    html = []
    for item in sorted(_PANELS.values(), key=lambda p: p.order):
        context = item.build(request)
        if context is not None:
            html.append(render_to_string(item.template, context, request=request))
    return html
