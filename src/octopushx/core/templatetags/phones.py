"""``{% phone number %}``: a phone number as people read it, with the actions apps registered for it."""

from __future__ import annotations

from django import template

from octopushx.core import phone_actions

register = template.Library()


@register.simple_tag(takes_context=True)
def phone(context, number, contact_id=None):
    return phone_actions.render(context.get("request"), number or "", contact_id)


@register.simple_tag(takes_context=True)
def phone_actions_for(context, number, contact_id=None):
    """Only the actions (the page shows the number already)."""
    return phone_actions.actions(context.get("request"), number or "", contact_id)
