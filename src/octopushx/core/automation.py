"""What products offer to workflow automation: record types, trigger events and actions.

Studio sits above every product, but reads them through this registry, as Shield reads
``privacy.py``: each product's ``automation.py`` (autodiscovered) registers

- ``record_type``: a kind of record a workflow can run on (``contact``, ``deal``, ``call``…), its
  variables (``{{ contact.first_name }}``) with their kinds, a loader that returns them for one
  record, the person it is about (restriction of processing and privacy requests follow it) and
  sample values for test runs;
- ``trigger``: an event the product emits on the bus, and which record it is about;
- ``action``: a step that changes the product's data through its services. Its ``run`` is called
  inside the transaction that records the step, so a local effect commits with its record once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class Var:
    label: str
    kind: str = "text"  # text | number | date | datetime | bool | list | choice | id
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RecordType:
    name: str
    label: str
    variables: dict[str, Var]
    load: Callable[[Any, str], dict | None]  # (tenant, id) -> variables, or None when gone
    sample: dict[str, Any]
    contact_of: Callable[[Any, dict], str | None] = lambda tenant, values: None
    url: Callable[[str], str] = lambda record_id: ""
    describe: Callable[[dict], str] = lambda values: ""
    # (tenant, query, limit) -> [(id, label)] for the test-run picker
    search: Callable[[Any, str, int], list[tuple[str, str]]] | None = None
    # (tenant, ids) -> {id: variables} for the records found: many records read at once (optional)
    load_many: Callable[[Any, list[str]], dict[str, dict]] | None = None
    # (record as an event's emitter holds it) -> variables, without reading it again (optional)
    values_of: Callable[[Any], dict] | None = None


@dataclass(frozen=True)
class Trigger:
    event: str
    label: str
    record_type: str
    id_key: str  # the payload key holding the record id
    watch: bool = False  # the payload says which fields changed ("fields")


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str = "text"  # text | template | member | number | choice | tags | field | json
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Action:
    type: str
    label: str
    icon: str
    record_types: tuple[str, ...]  # the records it acts on; () = any run
    params: tuple[Param, ...]
    run: Callable[..., dict]  # (tenant, actor, record_type, record_id, params, key) -> output
    describe: Callable[[dict], str] = lambda params: ""
    acts_on_contact: bool = True
    validate: Callable[[Any, dict], dict[str, str]] = field(default=lambda tenant, params: {})
    # It changes nothing but the run's own record and rows it creates: the engine may run it for
    # many runs inside one transaction (records read up front stay true for the other runs).
    batchable: bool = False


RECORD_TYPES: dict[str, RecordType] = {}
TRIGGERS: dict[str, Trigger] = {}
ACTIONS: dict[str, Action] = {}
_RESTRICTION: list[Callable[[Any, str], bool]] = []
_discovered = False


def record_type(rt: RecordType) -> RecordType:
    RECORD_TYPES[rt.name] = rt
    return rt


def trigger(t: Trigger) -> Trigger:
    TRIGGERS[t.event] = t
    return t


def action(a: Action) -> Action:
    ACTIONS[a.type] = a
    return a


def restriction(fn: Callable[[Any, str], bool]) -> Callable[[Any, str], bool]:
    """Register ``fn(tenant, contact_id) -> bool``: the person is under a restriction of processing."""
    _RESTRICTION.append(fn)
    return fn


def is_restricted(tenant, contact_id: str | None) -> bool:
    discover()
    return bool(contact_id) and any(fn(tenant, contact_id) for fn in _RESTRICTION)


def discover() -> None:
    """Import every installed app's ``automation.py`` once."""
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("octopushx."):
            try:
                importlib.import_module(f"{config.name}.automation")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.automation":
                    raise
    _discovered = True


@dataclass
class StepContext:
    """What an action's ``run`` gets: the run's record, the step's rendered parameters and its key."""

    tenant: Any
    actor: Any
    record_type: str
    record_id: str
    record: dict
    params: dict
    key: str  # the step execution's idempotency key (the same on every attempt)
    sequence: Callable[[], int]  # how many times this step has succeeded before (round robin)
    ai_label: str = ""  # set when the parameters carry unreviewed AI output
