"""The tenant gate: every route that takes an object id answers 404 for another tenant's object.

The test walks every API operation (from the OpenAPI schema) and every UI URL pattern
(from the URL resolver), so it grows with the routes. The caller is an owner of tenant A
who is *also* a member of tenant B, working in A: a route that filters by the user
instead of the tenant is caught too.

Adding a route with a new path parameter? Register a factory for it, either in
``FACTORIES`` below or in a ``FACTORIES`` dict of a module ``tests/<app>/cross_tenant.py``
(found automatically). A factory is ``factory(tenant, user) -> id``: it creates one
object of that kind in ``tenant`` (owned by ``user`` where such objects have an owner)
and returns its id.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from octopushx.accounts import services as account_services
from octopushx.accounts.models import UserSession
from octopushx.api import api
from octopushx.core.context import Actor
from octopushx.core.models import Job, JobState
from octopushx.tenancy.middleware import SESSION_KEY
from octopushx.tenancy.roles import Role
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 (fixture)
from tests.conftest import ApiClient, make_member, make_org

Factory = Callable[..., object]


def _member(tenant, user):
    return make_member(tenant, Role.AGENT, email=f"b-member-{uuid.uuid4().hex[:8]}@example.test").pk


def _token(tenant, user):
    token, _secret = account_services.create_token(tenant, Actor.system("test"), user, name="tenant B token")
    return token.pk


def _session(tenant, user):
    """A signed-in browser session of a member of ``tenant`` (sessions belong to users)."""
    other = make_member(tenant, Role.AGENT, email=f"b-session-{uuid.uuid4().hex[:8]}@example.test").user
    store = SessionStore()
    store["_auth_user_id"] = str(other.pk)
    store.create()
    return UserSession.objects.create(user=other, session_key=store.session_key).pk


def _user(tenant, user):
    """Someone who is a member of ``tenant`` only (owners, assignees)."""
    return make_member(tenant, Role.AGENT, email=f"b-user-{uuid.uuid4().hex[:8]}@example.test").user.pk


def _job(tenant, user):
    return Job.objects.create(tenant=tenant, kind="test.cross_tenant", state=JobState.FAILED).pk


def _organization(tenant, user):
    return tenant.pk


FACTORIES: dict[str, Factory] = {
    "org_id": _organization,
    "member_id": _member,
    "token_id": _token,
    "session_id": _session,
    "job_id": _job,
    # References to people in request bodies.
    "owner_id": _user,
    "assignee_id": _user,
}

# Routes whose parameters are not object ids: the secret in the link is the permission.
EXEMPT_UI_ROUTES = {
    "tenancy:accept_invitation": "the invitation token is a capability link, not an object id",
    "accounts:password_reset_confirm": "uidb64/token are Django's signed reset link",
    "crm:pick": "the kind is a record type (contacts, companies, deals, members), not an object id",
    "calls:webhook_twilio": "the tenant id addresses a provider webhook; its signature is the permission",
    "calls:webhook_vonage": "the tenant id addresses a provider webhook; its signature is the permission",
    "calls:webhook_generic": "the tenant id addresses a provider webhook; its signature is the permission",
    "studio_hook": "the workflow key addresses an inbound webhook; its signature is the permission",
    # tel-hooks: the provider's telephony webhooks; the id names the tenant whose secret must sign the request
    **{
        f"telephony_hooks:{name}": "a provider webhook: the id picks the tenant whose secret must have signed it"
        for name in (
            "twilio_incoming",
            "twilio_status",
            "vonage_answer",
            "vonage_event",
            "step",
            "twilio_leg",
            "flow_recording",
            "account_recording",
        )
    },  # fmt: skip
    "tenancy:brand_asset": "a brand's logo or favicon: public (the sign-in page shows it), never tenant data",
    "telephony_hooks:bridge": "the phone call id addresses a provider callback; its signature is the permission",
    "telephony_hooks:media": "a recorded greeting for the provider playing it: the URL's signature is the permission",
}

# Values for required request-body fields, so a call reaches the object lookup.
SAMPLE_VALUES = {"email": "someone@example.test", "role": Role.AGENT, "name": "Sample"}


# Fuller bodies for the body-reference test: optional fields with these names are filled
# too, and ``{n}`` makes each body unique (so a second call is not a duplicate).
RICH_VALUES = {
    "name": "Sample {n}",
    "first_name": "Sam {n}",
    "title": "Sample {n}",
    "body": "Sample note {n}",
    "email": "sample-{n}@example.test",
    "role": Role.AGENT,
}


def _discover_factories() -> dict[str, Factory]:
    found = dict(FACTORIES)
    tests_dir = Path(__file__).parent
    for package in pkgutil.iter_modules([str(tests_dir)]):
        if package.ispkg and (tests_dir / package.name / "cross_tenant.py").exists():
            module = importlib.import_module(f"tests.{package.name}.cross_tenant")
            found.update(getattr(module, "FACTORIES", {}))
    return found


ALL_FACTORIES = _discover_factories()


def _discover_reseller_only() -> tuple[str, ...]:
    """Path prefixes only resellers have (``RESELLER_ONLY`` in ``tests/<app>/cross_tenant.py``): a
    customer's owner must get 404 there, and the app walks them with two resellers itself."""
    found: list[str] = []
    tests_dir = Path(__file__).parent
    for package in pkgutil.iter_modules([str(tests_dir)]):
        if package.ispkg and (tests_dir / package.name / "cross_tenant.py").exists():
            module = importlib.import_module(f"tests.{package.name}.cross_tenant")
            found.extend(getattr(module, "RESELLER_ONLY", ()))
    return tuple(found)


RESELLER_ONLY = _discover_reseller_only()


# --- the routes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # "/api/v1/members/{member_id}"
    params: tuple[str, ...]
    body: dict | None
    query: tuple[tuple[str, object], ...] = ()  # required query parameters, sampled
    body_fields: tuple[str, ...] = ()  # every property of the JSON body
    body_spec: dict | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class UiRoute:
    name: str  # "namespace:name", or the route when the pattern has no name
    route: str
    params: tuple[str, ...]
    named: bool

    def __str__(self) -> str:
        return f"{self.name} /{self.route}"

    def url(self, values: dict[str, str]) -> str:
        if self.named:
            return reverse(self.name, kwargs=values or None)
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], self.route)


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        spec = schema["components"]["schemas"][name]
    return spec


def _sample(schema: dict, spec: dict, field: str = ""):
    spec = _resolve(schema, spec)
    if field in SAMPLE_VALUES:
        return SAMPLE_VALUES[field]
    if "anyOf" in spec:
        options = [o for o in spec["anyOf"] if o.get("type") != "null"]
        return _sample(schema, options[0], field)
    kind = spec.get("type")
    if kind == "object":
        return {
            k: _sample(schema, v, k) for k, v in spec.get("properties", {}).items() if k in spec.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if spec.get("format") == "date-time":
        return (timezone.now() + timedelta(days=30)).isoformat()
    if spec.get("format") == "uuid":
        return str(uuid.uuid4())
    return "sample"


def _rich_body(route: ApiRoute) -> dict:
    """The required fields plus the optional ones named in RICH_VALUES, unique per call."""
    schema = api.get_openapi_schema()
    spec = _resolve(schema, route.body_spec)
    n = uuid.uuid4().hex[:8]
    body = _sample(schema, spec)
    for name in spec.get("properties", {}):
        if name in RICH_VALUES:
            value = RICH_VALUES[name]
            body[name] = value.format(n=n) if isinstance(value, str) else value
    return body


def api_routes() -> list[ApiRoute]:
    schema = api.get_openapi_schema()
    routes = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
            body_spec = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body = _sample(schema, body_spec) if body_spec else None
            query = tuple(
                (p["name"], _sample(schema, p.get("schema", {}), p["name"]))
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            )
            fields = tuple(_resolve(schema, body_spec).get("properties", {})) if body_spec else ()
            routes.append(ApiRoute(method, path, params, body, query, fields, body_spec))
    return routes


def ui_routes() -> list[UiRoute]:
    routes: list[UiRoute] = []

    def walk(resolver, prefix: str, namespace: str, params: tuple[str, ...]) -> None:
        for entry in resolver.url_patterns:
            names = params + tuple(entry.pattern.regex.groupindex)
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = ":".join(n for n in (namespace, entry.namespace) if n)
                if inner == "api":
                    continue  # the API is walked through its OpenAPI schema
                walk(entry, route, inner, names)
            else:
                name = ":".join(n for n in (namespace, entry.name) if n) if entry.name else route
                routes.append(UiRoute(name, route, names, bool(entry.name)))

    walk(get_resolver(), "", "", ())
    return routes


API_ROUTES = api_routes()
UI_ROUTES = ui_routes()


# --- the two tenants -----------------------------------------------------------------------


class Ids(dict):
    """Objects of one tenant by kind, created on first use (a world only builds what a test needs)."""

    def __init__(self, tenant, user):
        super().__init__()
        self.tenant, self.user = tenant, user

    def __missing__(self, kind: str) -> str:
        self[kind] = str(ALL_FACTORIES[kind](self.tenant, self.user))
        return self[kind]

    def everything(self) -> Ids:
        for kind in ALL_FACTORIES:
            self[kind]
        return self


@dataclass
class World:
    tenant_a: object
    tenant_b: object
    api: ApiClient
    web: Client
    b_ids: Ids  # tenant B's objects, by registered parameter
    a_ids: Ids  # and tenant A's, for bodies that refer to B's
    b_only_email: str
    a_marker: str  # text of tenant A that its member list does show (the control)

    def b_markers(self) -> list[str]:
        """Text that must never appear in tenant A's responses (creates every kind of B object).

        B's own id is left out: the caller is a member of B, so the switcher lists it.
        """
        ids = self.b_ids.everything()
        return [v for v in ids.values() if v != str(self.tenant_b.pk)] + [self.b_only_email]


@pytest.fixture
def world(db, settings, request) -> World:
    # Billing on, so its routes (404 with billing off) are walked too; both tenants start on a trial,
    # which has every feature and no seat cap, so every other route answers as with billing off.
    # Card payment is set up against the local Stripe fake, so its routes are walked as well.
    request.getfixturevalue("stripe_fake")
    settings.BILLING_ENABLED = True
    tenant_a, tenant_b = make_org("Tenant A"), make_org("Tenant B")
    membership = make_member(tenant_a, Role.OWNER, email="both@example.test")
    user = membership.user
    make_member(tenant_b, Role.OWNER, email=user.email)  # the same person, in B too
    b_only = make_member(tenant_b, Role.AGENT, email="only-in-b@example.test")
    a_only = make_member(tenant_a, Role.AGENT, email="only-in-a@example.test")
    web = Client()
    web.force_login(user)
    session = web.session
    session[SESSION_KEY] = str(tenant_a.pk)
    session.save()
    return World(
        tenant_a,
        tenant_b,
        ApiClient(membership),
        web,
        Ids(tenant_b, user),
        Ids(tenant_a, user),
        b_only.user.email,
        a_only.user.email,
    )


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _unknown(params: tuple[str, ...]) -> list[str]:
    return [p for p in params if p not in ALL_FACTORIES]


# --- the tests -----------------------------------------------------------------------------


def test_every_path_parameter_has_a_factory():
    missing = {str(r): _unknown(r.params) for r in API_ROUTES if _unknown(r.params)}
    missing |= {str(r): _unknown(r.params) for r in UI_ROUTES if r.name not in EXEMPT_UI_ROUTES and _unknown(r.params)}
    assert not missing, (
        "These routes take path parameters the cross-tenant test cannot fill: "
        f"{missing}. Register a factory for each parameter in tests/test_cross_tenant.py FACTORIES "
        "or in a FACTORIES dict in tests/<app>/cross_tenant.py."
    )


def test_walk_finds_the_foundation_routes():
    api_paths = {str(r) for r in API_ROUTES}
    assert {"DELETE /api/v1/members/{member_id}", "POST /api/v1/jobs/{job_id}/retry"} <= api_paths
    names = {r.name for r in UI_ROUTES}
    assert {
        "tenancy:change_role",
        "accounts:revoke_session",
        "accounts:revoke_token",
        "jobs:retry",
    } <= names


ID_API_ROUTES = [r for r in API_ROUTES if r.params]
ID_UI_ROUTES = [r for r in UI_ROUTES if r.params and r.name not in EXEMPT_UI_ROUTES]


@pytest.mark.parametrize("route", ID_API_ROUTES, ids=str)
def test_api_route_answers_404_for_another_tenants_object(world, route):
    if _unknown(route.params):
        pytest.fail(f"{route}: register a factory for {_unknown(route.params)} (see module docstring)")
    path = route.path.format(**{p: world.b_ids[p] for p in route.params})
    if route.query:
        path += "?" + urlencode(route.query)
    call = getattr(world.api, route.method)
    response = call(path, route.body) if route.body is not None else call(path)
    answer = f"{response.status_code}: {_body(response)[:300]}"
    assert response.status_code == 404, f"{route} with tenant B's {route.params} answered {answer}"


@pytest.mark.parametrize("route", ID_UI_ROUTES, ids=str)
def test_ui_route_answers_404_for_another_tenants_object(world, route):
    if _unknown(route.params):
        pytest.fail(f"{route}: register a factory for {_unknown(route.params)} (see module docstring)")
    url = route.url({p: world.b_ids[p] for p in route.params})
    answered = {}
    for method in ("get", "post"):
        response = getattr(world.web, method)(url)
        if response.status_code != 405:
            answered[method] = response.status_code
    assert answered, f"{route} allows neither GET nor POST"
    assert set(answered.values()) == {404}, f"{route} with tenant B's {route.params} answered {answered}"


LIST_API_ROUTES = [r for r in API_ROUTES if not r.params and r.method == "get"]
LIST_UI_ROUTES = [r for r in UI_ROUTES if not r.params]


@pytest.mark.parametrize("route", LIST_API_ROUTES, ids=str)
def test_api_list_never_shows_another_tenants_rows(world, route):
    markers = world.b_markers()
    query = f"?{urlencode(route.query)}" if route.query else ""
    response = world.api.get(route.path + query)
    if route.path.startswith(RESELLER_ONLY):
        assert response.status_code == 404, (
            f"{route} is a reseller's, yet a customer's owner got {response.status_code}"
        )
        return
    assert response.status_code == 200, f"{route} answered {response.status_code} to an owner"
    body = _body(response)
    leaked = [marker for marker in markers if marker in body]
    assert not leaked, f"{route} shows tenant B's {leaked}"


@pytest.mark.parametrize("route", LIST_UI_ROUTES, ids=str)
def test_ui_page_never_shows_another_tenants_rows(world, route):
    markers = world.b_markers()
    response = world.web.get(route.url({}))
    if ("/" + route.route).startswith(RESELLER_ONLY):
        assert response.status_code == 404, (
            f"{route} is a reseller's, yet a customer's owner got {response.status_code}"
        )
        return
    assert response.status_code < 500, f"{route} answered {response.status_code}"
    body = _body(response)
    leaked = [marker for marker in markers if marker in body]
    assert not leaked, f"{route} shows tenant B's {leaked}"


def test_the_leak_check_sees_tenant_a_rows(world):
    assert world.a_marker in _body(world.api.get("/api/v1/members"))
    assert world.a_marker in _body(world.web.get(reverse("tenancy:members")))


def _reference_kind(name: str) -> str | None:
    """The registered kind a body field refers to: ``contact_id`` and ``contact_ids`` → ``contact_id``."""
    kind = name[:-1] if name.endswith("_ids") else name
    return kind if kind in ALL_FACTORIES else None


BODY_REFERENCES = [(r, f) for r in API_ROUTES if r.body_spec for f in r.body_fields if _reference_kind(f)]


@pytest.mark.parametrize("route, field_name", BODY_REFERENCES, ids=lambda v: str(v))
def test_api_body_reference_to_another_tenants_object_is_refused(world, route, field_name):
    kind = _reference_kind(field_name)

    def value(ids):
        return [ids[kind]] if field_name.endswith("_ids") else ids[kind]

    if _unknown(route.params):
        pytest.fail(f"{route}: register a factory for {_unknown(route.params)} (see module docstring)")
    path = route.path.format(**{p: world.a_ids[p] for p in route.params})
    call = getattr(world.api, route.method)
    refused = call(path, {**_rich_body(route), field_name: value(world.b_ids)})
    answer = f"{refused.status_code}: {_body(refused)[:300]}"
    assert refused.status_code in (404, 422), f"{route} accepted tenant B's {field_name}: {answer}"
    control = call(path, {**_rich_body(route), field_name: value(world.a_ids)})
    if control.status_code >= 300:
        pytest.skip(f"{route}: the sample body is not valid ({control.status_code}), so the refusal proves nothing")
