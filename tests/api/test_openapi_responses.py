"""Real answers validate against the schemas /api/v1/openapi.json publishes for them.

A client generated from the document gets typed objects only if the document says what the
answers are, and only works if the answers are what it says. So:

- the call routes (and the trackers and scorecards beside them) declare no untyped object
  anywhere in an answer: no bare ``dict``, no ``dict[str, Any]``;
- every call route that answers JSON is exercised on a real analysed call, and each answer is
  validated with ``jsonschema`` against the published schema, made strict: an object may carry
  only the keys its schema names (pydantic documents ``additionalProperties`` as allowed);
- every other GET route that needs nothing but ids (lists, details, settings) is called too, on
  objects made by the cross-tenant factories, and its answer validated the same way.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from octopushx.calls.models import Call, CallStatus
from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.tenancy.roles import Role
from tests.calls.conftest import tone_wav
from tests.calls.factories import analysed_call, system
from tests.conftest import ApiClient, make_member
from tests.test_cross_tenant import ALL_FACTORIES

# Route families whose answers must be typed all the way down.
TYPED_FAMILIES = re.compile(r"^/api/v1/(calls|trackers|scorecards)(/|$)")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def json_answers(document: dict) -> Iterator[tuple[str, str, str, dict]]:
    """(method, path, status, schema) of every 2xx answer documented as JSON."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if str(status).startswith("2") and schema:
                    yield method, path, str(status), schema


def untyped_parts(schema: dict, document: dict, where: str = "", seen: set | None = None) -> list[str]:
    """Where ``schema`` has an object whose keys and values are not described (``dict``,
    ``dict[str, Any]``); a map with typed values (``dict[str, float]``) is typed."""
    seen = set() if seen is None else seen
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
        return untyped_parts(_resolve(schema, document), document, where, seen)
    found: list[str] = []
    if schema.get("type") == "object" and not schema.get("properties"):
        values = schema.get("additionalProperties", True)
        if not where or values in (True, {}):
            found.append(where or "(the answer)")
    for name, sub in (schema.get("properties") or {}).items():
        found += untyped_parts(sub, document, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found += untyped_parts(extra, document, f"{where}.*", seen)
    if isinstance(schema.get("items"), dict):
        found += untyped_parts(schema["items"], document, f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key) or []:
            found += untyped_parts(sub, document, where, seen)
    return found


def _strict(schema):
    """The schema with ``additionalProperties: false`` on every object that names its keys."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if out.get("properties") and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def validator(document: dict, method: str, path: str, status: int) -> Draft202012Validator:
    answers = document["paths"][path][method]["responses"]
    assert str(status) in answers, f"{method.upper()} {path} answered {status}, which it does not document"
    schema = answers[str(status)]["content"]["application/json"]["schema"]
    root = {**_strict(copy.deepcopy(schema)), "components": _strict(copy.deepcopy(document["components"]))}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(document: dict, method: str, path: str, response) -> None:
    errors = list(validator(document, method, path, response.status_code).iter_errors(response.json()))
    if errors:
        error = best_match(errors)
        where = "/".join(str(p) for p in error.absolute_path)
        pytest.fail(f"{method.upper()} {path} {response.status_code} at {where or '(root)'}: {error.message}")


# --- the call routes ---------------------------------------------------------------------


def test_typed_families_declare_no_untyped_answers(document):
    untyped = [
        f"{method.upper()} {path} {status}: {part}"
        for method, path, status, schema in json_answers(document)
        if TYPED_FAMILIES.match(path)
        for part in untyped_parts(schema, document)
    ]
    assert untyped == []


def test_the_untyped_check_sees_a_bare_dict(document):
    assert untyped_parts({"type": "object", "additionalProperties": True}, document) == ["(the answer)"]
    assert untyped_parts({"type": "object", "additionalProperties": {"type": "number"}}, document) == ["(the answer)"]
    nested = {"type": "object", "properties": {"a": {"type": "object", "additionalProperties": True}}}
    assert untyped_parts(nested, document) == [".a"]
    typed_map = {"type": "object", "properties": {"a": {"type": "object", "additionalProperties": {"type": "number"}}}}
    assert untyped_parts(typed_map, document) == []


class CallWorld:
    """An owner of the organisation with an analysed call, a contact and a recording to retry."""

    def __init__(self, org, api_as, mailoutbox):
        self.org = org
        self.client = api_as(Role.OWNER)
        self.mail = mailoutbox
        self.contact = crm.create_contact(org, system(), {"first_name": "Ada", "phone": "+442079460018"})
        self.call = analysed_call(org, agent=self.client.membership.user, contact=self.contact)
        self.unmatched = analysed_call(org, from_number="+442079460999")

    def scorecard(self, state: str = "none"):
        """A scorecard for every call; with ``state`` "submitted" or "disputed", the call scored by a
        n admin (reviewers do not score their own calls: the owner is the call's agent here)."""
        from octopushx.calls import scoring
        from octopushx.calls.services import scorecards

        card = scorecards.create_scorecard(
            self.org, system(), {"name": "Typed QA", "definition": scoring.example_definition(), "applies_to": {}}
        )
        if state != "none":
            reviewer = self.reviewer = make_member(self.org, Role.ADMIN)
            answers = {
                q.id: {"value": q.options[0].value}
                for q in scoring.Definition.model_validate(scoring.example_definition()).questions()
            }
            reviewer_actor = Actor(user=reviewer.user, role=reviewer.role)
            scorecards.save_answers(self.org, reviewer_actor, self.call, card, {"answers": answers, "submit": True})
            if state == "disputed":
                owner = self.client.membership
                first = next(iter(answers))
                scorecards.dispute(self.org, Actor(user=owner.user, role=owner.role), self.call, card, first, "No")
                self.first_question = first
        return card

    def ask_model(self):
        """An admin asks the language model for suggestions on a scorecard with a question for it."""
        from dataclasses import replace

        from django.conf import settings
        from django.test import override_settings

        from octopushx.calls import scoring
        from octopushx.calls.services import scorecards
        from octopushx.intelligence import LLMSettings

        definition = scoring.example_definition()
        definition["sections"][0]["questions"][0]["auto"] = {"source": "llm"}
        card = scorecards.create_scorecard(
            self.org, system(), {"name": "Model QA", "definition": definition, "applies_to": {}}
        )
        model = LLMSettings(url="http://127.0.0.1:9/v1", model="qa-model", timeout=1)  # never reached here
        with override_settings(CALLS_ANALYSIS=replace(settings.CALLS_ANALYSIS, llm=model)):
            admin = ApiClient(make_member(self.org, Role.ADMIN))
            return admin.post(f"{P}/{self.call.pk}/scorecards/{card.pk}/model-suggestions", {})

    def reviewer_client(self):
        return ApiClient(self.reviewer)

    def uploaded_and_failed(self) -> Call:
        response = self.upload()
        assert response.status_code == 201, response.content
        Call.objects.filter(pk=response.json()["id"]).update(status=CallStatus.FAILED, failure_reason="test")
        return Call.objects.get(pk=response.json()["id"])

    def upload(self):
        file = SimpleUploadedFile("call.wav", tone_wav(), content_type="audio/wav")
        return self.client.post("/api/v1/calls", {"file": file, "direction": "outbound"}, multipart=True)


P = "/api/v1/calls"
# One request per (method, path) that answers JSON: the call's id is filled in.
CALL_REQUESTS: dict[tuple[str, str], Callable[[CallWorld], object]] = {
    ("post", P): lambda w: w.upload(),
    ("get", P): lambda w: w.client.get(P),
    ("get", f"{P}/search"): lambda w: w.client.get(f"{P}/search?q=card"),
    ("get", f"{P}/settings"): lambda w: w.client.get(f"{P}/settings"),
    ("patch", f"{P}/settings"): lambda w: w.client.patch(f"{P}/settings", {"keep_original": True}),
    ("get", f"{P}/{{call_id}}"): lambda w: w.client.get(f"{P}/{w.call.pk}"),
    ("get", f"{P}/{{call_id}}/results"): lambda w: w.client.get(f"{P}/{w.call.pk}/results"),
    ("post", f"{P}/{{call_id}}/approve"): lambda w: w.client.post(f"{P}/{w.call.pk}/approve"),
    ("post", f"{P}/{{call_id}}/corrections"): lambda w: w.client.post(
        f"{P}/{w.call.pk}/corrections",
        {
            "summary": "Paid by card.",
            "action_items": [{"text": "Send the receipt", "owner": "agent", "due": "Friday"}],
            "utterances": [{"index": 0, "text": "Thanks for calling."}],
        },
    ),
    ("post", f"{P}/{{call_id}}/retry"): lambda w: w.client.post(f"{P}/{w.uploaded_and_failed().pk}/retry"),
    ("post", f"{P}/{{call_id}}/tasks"): lambda w: w.client.post(f"{P}/{w.call.pk}/tasks", {"index": 0}),
    ("post", f"{P}/{{call_id}}/contact"): lambda w: w.client.post(f"{P}/{w.unmatched.pk}/contact"),
    ("put", f"{P}/{{call_id}}/contact"): lambda w: w.client.put(
        f"{P}/{w.unmatched.pk}/contact", {"contact_id": str(w.contact.pk)}
    ),
    ("get", f"{P}/{{call_id}}/scorecards"): lambda w: (w.scorecard(), w.client.get(f"{P}/{w.call.pk}/scorecards"))[1],
    ("post", f"{P}/{{call_id}}/scorecards/{{scorecard_id}}"): lambda w: w.client.post(
        f"{P}/{w.unmatched.pk}/scorecards/{w.scorecard().pk}", {"answers": {}, "submit": False}
    ),
    ("post", f"{P}/{{call_id}}/scorecards/{{scorecard_id}}/model-suggestions"): lambda w: w.ask_model(),
    ("post", f"{P}/{{call_id}}/scorecards/{{scorecard_id}}/acknowledge"): lambda w: w.client.post(
        f"{P}/{w.call.pk}/scorecards/{w.scorecard('submitted').pk}/acknowledge", {}
    ),
    ("post", f"{P}/{{call_id}}/scorecards/{{scorecard_id}}/dispute"): lambda w: (
        lambda card: w.client.post(
            f"{P}/{w.call.pk}/scorecards/{card.pk}/dispute", {"question_id": "greeting", "comment": "I did"}
        )
    )(w.scorecard("submitted")),
    ("post", f"{P}/{{call_id}}/scorecards/{{scorecard_id}}/resolve"): lambda w: (
        lambda card: w.reviewer_client().post(
            f"{P}/{w.call.pk}/scorecards/{card.pk}/resolve",
            {"question_id": w.first_question, "resolution": "The answer stands"},
        )
    )(w.scorecard("disputed")),
    ("post", f"{P}/{{call_id}}/summary/email"): lambda w: w.client.post(
        f"{P}/{w.call.pk}/summary/email", {"to": "partner@example.com", "confirm_unreviewed": True}
    ),
}


def call_routes(document: dict) -> list[tuple[str, str]]:
    return sorted({(m, p.removesuffix("/")) for m, p, _s, _schema in json_answers(document) if p.startswith(P)})


def test_every_call_route_that_answers_json_is_exercised(document):
    missing = [f"{m.upper()} {p}" for m, p in call_routes(document) if (m, p) not in CALL_REQUESTS]
    assert missing == [], "add a request for each to CALL_REQUESTS"


@pytest.mark.parametrize("route", sorted(CALL_REQUESTS), ids=lambda r: f"{r[0].upper()} {r[1]}")
def test_call_answers_validate_against_the_published_schema(document, org, api_as, mailoutbox, route):
    method, path = route
    world = CallWorld(org, api_as, mailoutbox)
    response = CALL_REQUESTS[route](world)
    assert 200 <= response.status_code < 300, response.content
    assert_valid(document, method, path, response)


def test_a_call_with_its_original_transcript_validates(document, org, api_as, mailoutbox):
    world = CallWorld(org, api_as, mailoutbox)
    world.client.post(f"{P}/{world.call.pk}/approve")
    response = world.client.get(f"{P}/{world.call.pk}?original=true")
    assert response.status_code == 200
    assert_valid(document, "get", f"{P}/{{call_id}}", response)
    assert response.json()["analysis"]["review_state"] == "approved"


def _leaves(errors) -> set[tuple]:
    """The paths of the innermost errors (an error inside ``X | None`` is reported at X first)."""
    found: set[tuple] = set()
    for error in errors:
        if error.context:
            found |= _leaves(error.context)
        elif error.validator != "type" or error.validator_value != "null":
            found.add(tuple(error.absolute_path))
    return found


def test_the_strict_check_fails_an_undocumented_key(document, org, api_as, mailoutbox):
    world = CallWorld(org, api_as, mailoutbox)
    body = world.client.get(f"{P}/{world.call.pk}").json()
    assert list(validator(document, "get", f"{P}/{{call_id}}", 200).iter_errors(body)) == []
    body["insights"]["metrics"]["made_up"] = 1
    body["transcript"]["utterances"][0]["start"] = "soon"
    errors = validator(document, "get", f"{P}/{{call_id}}", 200).iter_errors(body)
    assert _leaves(errors) == {("insights", "metrics"), ("transcript", "utterances", 0, "start")}


def test_error_answers_validate_too(document, org, api_as):
    client = api_as(Role.OWNER)
    missing = client.get(f"{P}/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert_valid(document, "get", f"{P}/{{call_id}}", missing)
    bad = client.get(f"{P}?direction=sideways")
    assert bad.status_code == 422
    assert_valid(document, "get", P, bad)
    agent = api_as(Role.AGENT)
    assert agent.get(f"{P}/settings").status_code == 403
    assert_valid(document, "get", f"{P}/settings", agent.get(f"{P}/settings"))


# --- every other GET that needs only ids -------------------------------------------------


def simple_gets(document: dict) -> list[str]:
    """GET routes outside the calls whose answer names its keys (open maps inside, such as custom
    field values, stay open), with no required query parameter."""
    paths = []
    for method, path, status, schema in json_answers(document):
        if method != "get" or status != "200" or path.startswith(P):
            continue
        parameters = document["paths"][path]["get"].get("parameters", [])
        if any(p["in"] == "query" and p.get("required") for p in parameters):
            continue
        if "(the answer)" in untyped_parts(schema, document):
            continue
        if not all(name in ALL_FACTORIES for name in re.findall(r"{(\w+)}", path)):
            continue
        paths.append(path)
    return sorted(set(paths))


def test_other_typed_gets_validate_against_the_published_schema(document, org):
    owner = make_member(org, Role.OWNER)
    api = ApiClient(owner)
    ids: dict[str, str] = {}
    checked, skipped = [], []
    for path in simple_gets(document):
        url = path
        for name in re.findall(r"{(\w+)}", path):
            if name not in ids:
                ids[name] = str(ALL_FACTORIES[name](org, owner.user))
            url = url.replace(f"{{{name}}}", ids[name])
        response = api.get(url)
        if response.status_code != 200:
            skipped.append(f"{path}: {response.status_code}")
            continue
        assert_valid(document, "get", path, response)
        checked.append(path)
    assert "/api/v1/contacts" in checked and "/api/v1/contacts/{contact_id}" in checked, skipped
    assert len(checked) >= 25, (checked, skipped)
