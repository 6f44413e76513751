"""Demo workflows: a few gallery templates, set up as a team would run them (loaded once)."""

from __future__ import annotations

from octopushx.core.context import Actor
from octopushx.studio import services
from octopushx.studio.gallery import template_body
from octopushx.studio.models import Workflow

# (template, turned on, steps kept): the ticketing webhook of the call template points nowhere in a
# demo, so the demo keeps its manager task only.
DEMO = (
    ("negative_call_manager_task", True, ("s1",)),
    ("deal_won_onboarding", True, None),
    ("vip_welcome", True, None),
    ("overdue_task_reminder", True, None),
    ("privacy_request_notify", True, None),
    ("webhook_upsert_contact", False, None),
)


def load(tenant) -> str:
    if Workflow.objects.for_tenant(tenant).exists():
        return "Demo workflows: already there."
    actor = Actor.system("demo")
    for key, enabled, keep in DEMO:
        body = template_body(tenant, key)
        if keep is not None:
            body["steps"] = [step for step in body["steps"] if step["id"] in keep]
        services.create_workflow(tenant, actor, {**body, "enabled": enabled}, template=key)
    return f"Demo workflows: {len(DEMO)} from the gallery ({sum(1 for d in DEMO if d[1])} turned on)."
