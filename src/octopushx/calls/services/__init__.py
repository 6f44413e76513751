"""Call operations shared by the API, the web UI, the webhooks and the jobs.

Each function takes ``(tenant, actor, ...)``, validates (``ValidationError`` keyed by field),
writes in one transaction, records an audit entry and emits a domain event with ids only.
The modules: ``config`` (tenant settings), ``queries`` (visibility, matching, filters),
``intake`` (new calls), ``processing`` (run state and results), ``review`` (acting on AI output),
``sharing`` (the summary taken out of the platform).
"""

from octopushx.calls.services.config import (
    SECRET_FIELDS,
    analysis_settings,
    call_settings,
    credential,
    settings_snapshot,
    update_settings,
)
from octopushx.calls.services.intake import (
    ROLES,
    SPEAKERS,
    attach_fetched_recording,
    call_snapshot,
    check_recording,
    clean_call_fields,
    create_webhook_call,
    existing_call,
    upload_call,
)
from octopushx.calls.services.processing import fail, mark, next_run, restricted_reason, retry, save_result
from octopushx.calls.services.queries import (
    clean_number,
    filter_calls,
    flat_metrics,
    get_visible_call,
    match_agent,
    match_contact,
    membership_of,
    metric_rows,
    team_averages,
    visible_calls,
)
from octopushx.calls.services.review import (
    action_item_task,
    approve,
    contact_from_number,
    correct,
    delete_call,
    link_contact,
    original_viewed,
)
from octopushx.calls.services.sharing import email_summary, export_summary, needs_confirmation, shareable_result

__all__ = [
    "ROLES",
    "SECRET_FIELDS",
    "SPEAKERS",
    "action_item_task",
    "analysis_settings",
    "approve",
    "attach_fetched_recording",
    "call_settings",
    "call_snapshot",
    "check_recording",
    "clean_call_fields",
    "clean_number",
    "contact_from_number",
    "correct",
    "create_webhook_call",
    "credential",
    "delete_call",
    "email_summary",
    "existing_call",
    "export_summary",
    "fail",
    "filter_calls",
    "flat_metrics",
    "metric_rows",
    "get_visible_call",
    "link_contact",
    "mark",
    "needs_confirmation",
    "match_agent",
    "match_contact",
    "membership_of",
    "next_run",
    "original_viewed",
    "restricted_reason",
    "retry",
    "save_result",
    "settings_snapshot",
    "shareable_result",
    "team_averages",
    "update_settings",
    "upload_call",
    "visible_calls",
]
