"""``POST /hooks/studio/<workflow key>``: the inbound webhook trigger.

Signed per Standard Webhooks with the workflow's secret (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), so it needs no session and no CSRF token.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from octopushx.studio.api import webhook_response


@csrf_exempt
@require_POST
def inbound(request, workflow_key: str):
    return webhook_response(request, workflow_key)
