"""Live call events for the members' open pages (the caller card).

``call_changed`` is called after the transaction that changed a ``PhoneCall`` commits: whoever is in
``phone_call.ringing_users`` sees the caller card, the agent who answered keeps it, and it closes at the
end. Until the live channel lands it tells no one.
"""

from __future__ import annotations


def call_changed(phone_call) -> None:
    """Tell the browsers of the members concerned that ``phone_call`` changed."""
    return None
