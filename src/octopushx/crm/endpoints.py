"""What the CRM's record APIs share beyond the generic ``octopushx.api.crud``: ``Idempotency-Key``
on creates, pages in the order the request asks for, and rows the member may see.
"""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from ninja import Schema

from octopushx.api.crud import Resource
from octopushx.api.pagination import paginate
from octopushx.crm import queries
from octopushx.crm.models import IdempotencyKey
from octopushx.crm.visibility import get_visible


def idempotent(request, build, out: type[Schema] | None, status: int = 201, digest: str | None = None):
    """Run ``build()`` once per ``Idempotency-Key``; a replay answers the first response.

    ``build()`` returns a row answered as ``out``, or (``out`` None) the answer's JSON-ready dict.
    """

    def answer() -> dict:
        built = build()
        if out is None:
            return json.loads(json.dumps(built, cls=DjangoJSONEncoder))
        return out.from_orm(built).model_dump(mode="json")

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return JsonResponse(answer(), status=status)
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
            body = answer()
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
    with queries.without_parallel_workers():
        items, next_cursor = paginate(
            qs, cursor=cursor, limit=limit, field=field_name, descending=descending, then=then
        )
    return {"items": items, "next": next_cursor}


def resource(**fields) -> Resource:
    """A CRM record type for ``add_crud``: rows the member may see, the CRM's sort fields and
    ``Idempotency-Key`` on create."""
    model, singular = fields["model"], fields["singular"]
    return Resource(
        fetch=lambda request, pk: get_visible(model, request.tenant, request.membership, pk),
        page=lambda request, qs, cursor, limit: page(request, qs, singular, cursor, limit),
        created=idempotent,
        **fields,
    )
