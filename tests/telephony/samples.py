"""Flows the telephony tests share: the issue's support line and a flow with every block type."""

from __future__ import annotations

import copy
from datetime import datetime

from octopushx.telephony.compile import CallContext, Endpoint

SUPPORT_LINE = {
    "name": "Support line",
    "timezone": "Europe/London",
    "start": "hours",
    "blocks": [
        {
            "id": "hours",
            "type": "hours",
            "schedule": {day: ["09:00-17:30"] for day in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": "GB",
            "open": "menu",
            "closed": "vm",
        },
        {
            "id": "menu",
            "type": "menu",
            "say": "Press 1 for billing or 2 for support.",
            "options": {"1": "billing", "2": "support"},
            "timeout_s": 8,
            "no_input": "vm",
        },
        {
            "id": "billing",
            "type": "ring_group",
            "members": ["owner@acme.test"],
            "strategy": "simultaneous",
            "timeout_s": 20,
            "next": "vm",
        },
        {"id": "support", "type": "ring_group", "team": "Support", "strategy": "longest_idle", "timeout_s": 30,
         "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Please leave a message after the tone."},
    ],
}  # fmt: skip


def support_line() -> dict:
    return copy.deepcopy(SUPPORT_LINE)


# One block of each type, every one reachable: the golden files compile each of them.
EVERY_BLOCK = {
    "name": "Every block",
    "timezone": "Europe/London",
    "language": "en-GB",
    "start": "hours",
    "recording": {"enabled": True, "disclosure": "Calls are recorded for quality and training."},
    "blocks": [
        {"id": "hours", "type": "hours", "schedule": {"mon": ["09:00-17:30"], "sat": ["10:00-14:00"]},
         "holidays": "GB", "open": "greeting", "closed": "vm"},
        {"id": "greeting", "type": "greeting", "say": "Welcome to Acme.", "next": "menu"},
        {"id": "recorded-greeting", "type": "greeting", "recording": "blob-123", "next": "goodbye"},
        {"id": "menu", "type": "menu", "say": "Press 1 for billing, 2 for support, 3 to wait, 4 for our office.",
         "options": {"1": "billing", "2": "support", "3": "queue", "4": "forward", "5": "recorded-greeting",
                     "0": "goodbye"},
         "timeout_s": 8, "repeat": 2, "no_input": "vm"},
        {"id": "billing", "type": "ring_group", "members": ["ann@acme.test", "bob@acme.test", "cy@acme.test"],
         "strategy": "simultaneous", "timeout_s": 20, "next": "vm"},
        {"id": "support", "type": "ring_group", "team": "Support", "strategy": "round_robin", "timeout_s": 45,
         "member_timeout_s": 15, "next": "queue"},
        {"id": "queue", "type": "queue", "say": "All our agents are busy. Please hold.", "team": "Support",
         "hold_music": "https://cdn.acme.test/hold.mp3", "max_wait_s": 120, "next": "vm"},
        {"id": "forward", "type": "forward", "number": "+44 20 7946 0000", "timeout_s": 25, "next": "vm"},
        {"id": "vm", "type": "voicemail", "say": "Please leave a message after the tone.", "max_length_s": 120,
         "notify_team": "Support"},
        {"id": "goodbye", "type": "hangup", "say": "Thank you for calling. Goodbye."},
    ],
}  # fmt: skip

ENDPOINTS = [
    Endpoint("number", "+447700900001", "ann@acme.test"),
    Endpoint("client", "bob-acme", "bob@acme.test"),
    Endpoint("sip", "sip:cy@pbx.acme.test", "cy@acme.test"),
]


def context(**changes) -> CallContext:
    """Monday 7 December 2026, 10:30 in London; three members available."""
    options = {
        "base_url": "https://octo.example",
        "flow_key": "flow-1",
        "now": datetime(2026, 12, 7, 10, 30),
        "call_id": "CA0001",
        "caller_id": "+441134960000",
        "endpoints": lambda block: list(ENDPOINTS),
        "media_url": lambda blob_id: f"https://octo.example/media/{blob_id}",
        "ringback_url": "https://octo.example/static/telephony/ringback.mp3",
    }
    options.update(changes)
    return CallContext(**options)
