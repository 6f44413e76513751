"""Telephony in billing's plans (autodiscovered with the other ``usage.py`` modules): the line's caps.

The plan may cap how many calls are on the line at once and how many phone minutes a month the
organisation uses; billing answers ``core.entitlements.quantity_limit`` for these names, and
``telephony.limits`` falls back to the organisation's own setting when it does not.
"""

from __future__ import annotations

from octopushx.core import entitlements
from octopushx.telephony.limits import CONCURRENT, MINUTES

entitlements.declare_limit(CONCURRENT, "Concurrent phone calls")
entitlements.declare_limit(MINUTES, "Phone minutes a month")
