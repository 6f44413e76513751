"""Log lines carrying the request id: JSON for machines (production), short text lines for a person (development)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from octopushx.core.context import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``14:02:11 INFO  calls: message [request 1a2b3c4d]``: what a developer reads in ``make run``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        name = record.name.removeprefix("octopushx.")
        line = f"{when} {record.levelname:<7} {name}: {record.getMessage()}"
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            line += f" [request {request_id[:8]}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def forget_request_id(**kwargs) -> None:
    """``request_finished`` receiver: log lines between requests carry no stale id."""
    request_id_var.set("-")
