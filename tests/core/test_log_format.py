"""Log lines: short text for a person in development, JSON in production."""

from __future__ import annotations

import json
import logging

from octopushx.core.context import request_id_var
from octopushx.core.logging import JsonFormatter, RequestIdFilter, TextFormatter


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("octopushx.calls", logging.INFO, __file__, 1, message, None, None)
    RequestIdFilter().filter(record)
    return record


def test_text_line_is_short_and_carries_the_request_id():
    marker = request_id_var.set("1a2b3c4d5e6f")
    try:
        line = TextFormatter().format(_record("call analysed"))
    finally:
        request_id_var.reset(marker)
    assert line.endswith("INFO    calls: call analysed [request 1a2b3c4d]")
    assert not line.startswith("{")


def test_text_line_without_a_request():
    marker = request_id_var.set("-")  # outside any request (whatever an earlier test left behind)
    try:
        line = TextFormatter().format(_record("reaper re-enqueued 2 job(s)"))
    finally:
        request_id_var.reset(marker)
    assert "[request" not in line


def test_json_line_for_machines():
    line = json.loads(JsonFormatter().format(_record("call analysed")))
    assert line["message"] == "call analysed" and line["logger"] == "octopushx.calls"
