"""Every schema in the OpenAPI document is the one its name says.

django-ninja files each pydantic class under its ``__name__``; two classes with one name share
one component, and every operation using either is documented with whichever came last (the
CRM's ``POST /tasks`` was documented as the call action item's ``{"index": int}``).
"""

from __future__ import annotations

import typing
from collections import defaultdict

from pydantic import BaseModel

from octopushx.api import api


def _models_in(annotation, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _models_in(argument, found)


def documented_models() -> set[type[BaseModel]]:
    """The schemas of every operation's parameters, body and answers (not ninja's wrappers)."""
    found: set[type[BaseModel]] = set()
    for bound_router in api._get_bound_routers():
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                wrappers = [*operation.models, *(m for m in operation.response_models.values() if m)]
                for wrapper in wrappers:
                    if isinstance(wrapper, type) and issubclass(wrapper, BaseModel):
                        for field in wrapper.model_fields.values():
                            _models_in(field.annotation, found)
    return found


def test_no_two_documented_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in documented_models():
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert shared == {}


def test_create_task_is_documented_with_the_crm_task_schema(client):
    document = client.get("/api/v1/openapi.json").json()
    body = document["paths"]["/api/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert "title" in document["components"]["schemas"][name]["properties"]


def test_every_operation_has_a_unique_operation_id(client):
    document = client.get("/api/v1/openapi.json").json()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


def test_every_operation_documents_the_errors_it_can_answer(client):
    document = client.get("/api/v1/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"429"}
            if operation.get("security"):  # unauthenticated operations (a provider's signed webhook) answer neither
                expected |= {"401", "403"}
            if "{" in path:
                expected.add("404")
            if operation.get("parameters") or operation.get("requestBody"):
                expected.add("422")
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                expected.add("400")
            for status in sorted(expected - set(operation["responses"])):
                missing.append(f"{method.upper()} {path}: {status}")
            for status, answer in operation["responses"].items():
                if status >= "400":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
    assert missing == []
