"""The endpoint pattern the CRM API repeats: list, get, create, change, delete one kind of record.

A ``Resource`` declares only what differs between contacts, companies, deals, tasks and notes;
``add_crud`` registers its five operations with cursor pagination, ``Idempotency-Key`` on create,
the roles they need and the one error shape. The operations keep the names (operation ids and URL
names) they had when they were written by hand.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, JsonResponse
from ninja import Query, Router, Schema

from octopushx.api.auth import require
from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.crm import queries
from octopushx.crm.models import IdempotencyKey
from octopushx.crm.visibility import get_visible
from octopushx.tenancy.roles import Perm

ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def payload_data(payload: Schema) -> dict:
    """The fields the client sent (a PATCH changes only those)."""
    return payload.dict(exclude_unset=True)


def idempotent(request, build, out: type[Schema], status: int = 201, digest: str | None = None):
    """Run ``build()`` once per ``Idempotency-Key``; a replay answers the first response."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return JsonResponse(out.from_orm(build()).model_dump(mode="json"), status=status)
    if len(key) > 200:
        raise ValidationError({"Idempotency-Key": ["At most 200 characters"]})
    digest = (
        digest or hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + request.body).hexdigest()
    )

    def replay(found: IdempotencyKey):
        if found.request_hash != digest:
            raise ValidationError(
                {"Idempotency-Key": ["This key was already used for a different request; send a new key"]}
            )
        return JsonResponse(found.response, status=found.status_code)

    # Keys belong to the caller (member, and token if any), not the whole tenant: another
    # member's replay must never read a response, and a record, meant for someone else.
    scope = request.actor.ref
    mine = IdempotencyKey.objects.for_tenant(request.tenant).filter(scope=scope, key=key)
    found = mine.first()
    if found is not None:
        return replay(found)
    try:
        with transaction.atomic():
            body = out.from_orm(build()).model_dump(mode="json")
            IdempotencyKey.objects.create(
                tenant=request.tenant, scope=scope, key=key, request_hash=digest, status_code=status, response=body
            )
    except IntegrityError:
        found = mine.first()
        if found is None:
            raise
        return replay(found)
    return JsonResponse(body, status=status)


def page(request, qs, object_type: str, cursor, limit, default: str = "-created_at") -> dict:
    """One page of ``qs`` in the ``ordering`` the request asks for (``default`` otherwise)."""
    field_name, descending = queries.ordering(object_type, request.GET.get("ordering"), default)
    then = queries.THEN.get(field_name, ())
    items, next_cursor = paginate(qs, cursor=cursor, limit=limit, field=field_name, descending=descending, then=then)
    return {"items": items, "next": next_cursor}


@dataclass(frozen=True)
class Summaries:
    list: str
    create: str
    get: str
    update: str
    delete: str


@dataclass(frozen=True)
class Resource:
    """What one kind of record brings to the five endpoints.

    ``singular`` names the path parameter (``<singular>_id``), the operations and the sort fields
    (``queries.ordering``). ``rows(request, filters, q)`` is the filtered list the caller may see;
    ``create``/``update``/``delete`` are the services functions; ``answer(request, row, created)``,
    when given, is the row as a write answers it (reloaded with its relations, say). ``items(rows)``,
    when given, answers a page's rows as ``schema_out`` dicts, built in bulk rather than per field.
    """

    model: type[Model]
    singular: str
    plural: str
    schema_in: type[Schema]
    schema_out: type[Schema]
    page: type[Schema]
    filters: type[Schema]
    rows: Callable[[HttpRequest, Schema, str], QuerySet]
    create: Callable[..., Model]
    update: Callable[..., Model]
    delete: Callable[..., None]
    summaries: Summaries
    answer: Callable[[HttpRequest, Model, bool], Model] | None = None
    items: Callable[[list], list[dict]] | None = None
    delete_perm: Perm = Perm.DELETE
    docs: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return "/" + self.plural

    @property
    def id_param(self) -> str:
        return f"{self.singular}_id"


def _operation(fn: Callable, name: str, module: str, doc: str | None, params: list[inspect.Parameter]) -> Callable:
    """Give a generated view the name, docstring and typed signature ninja reads."""
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    fn.__doc__ = doc
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD), *params]
    )
    return fn


def _keyword(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def add_crud(router: Router, resource: Resource, module: str) -> None:
    """Register ``GET/POST /<plural>`` and ``GET/PATCH/DELETE /<plural>/{<singular>_id}``."""
    r = resource
    one = f"{r.path}/{{{r.id_param}}}"
    id_params = [_keyword(r.id_param, str)]
    payload_params = [_keyword("payload", r.schema_in)]

    def answer(request, row: Model, created: bool) -> Model:
        return r.answer(request, row, created) if r.answer else row

    def fetch(request, params: dict) -> Model:
        return get_visible(r.model, request.tenant, request.membership, params[r.id_param])

    def list_view(request, **params):
        qs = r.rows(request, params["filters"], params["q"])
        answer = page(request, qs, r.singular, params["cursor"], params["limit"])
        if r.items is None:
            return answer
        from octopushx.api import api

        # Already in the page's shape: answered as it is, not read again field by field.
        return api.create_response(request, {**answer, "items": r.items(answer["items"])}, status=200)

    def create_view(request, **params):
        require(request, Perm.WRITE)
        data = payload_data(params["payload"])
        return idempotent(
            request, lambda: answer(request, r.create(request.tenant, request.actor, data), True), r.schema_out
        )

    def get_view(request, **params):
        return fetch(request, params)

    def update_view(request, **params):
        require(request, Perm.WRITE)
        row = fetch(request, params)
        return answer(request, r.update(request.tenant, request.actor, row, payload_data(params["payload"])), False)

    def delete_view(request, **params):
        require(request, r.delete_perm)
        r.delete(request.tenant, request.actor, fetch(request, params))
        return 204, None

    list_params = [
        _keyword("filters", Query[r.filters]),  # type: ignore[valid-type]
        _keyword("q", str, ""),
        _keyword("ordering", str, "-created_at"),
        _keyword("cursor", str | None, None),
        _keyword("limit", int, 50),
    ]

    def register(method: str, path: str, response: dict, summary: str, view: Callable, name: str, params, doc=None):
        view = _operation(view, name, module, doc, params)
        getattr(router, method)(path, response={**response, **ERRORS}, summary=summary)(view)

    list_doc, create_doc = r.docs.get("list"), r.docs.get("create")
    register("get", r.path, {200: r.page}, r.summaries.list, list_view, f"list_{r.plural}", list_params, list_doc)
    register(
        "post",
        r.path,
        {201: r.schema_out},
        r.summaries.create,
        create_view,
        f"create_{r.singular}",
        payload_params,
        create_doc,
    )
    register("get", one, {200: r.schema_out}, r.summaries.get, get_view, f"get_{r.singular}", id_params)
    register(
        "patch",
        one,
        {200: r.schema_out},
        r.summaries.update,
        update_view,
        f"update_{r.singular}",
        id_params + payload_params,
    )
    register("delete", one, {204: None}, r.summaries.delete, delete_view, f"delete_{r.singular}", id_params)
