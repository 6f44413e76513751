"""One error shape for the whole API: ``{"detail": str, "errors": {field: [messages]}}``."""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
    code: str | None = None


class JsonObjectParser(Parser):
    """JSON bodies are objects. ninja read an array (or a bare value) as an empty object, so
    ``POST /contacts`` with ``[{...}]`` ran with no fields at all; this refuses it for every
    operation with a JSON body.

    ninja turns any error raised here into a 400 "Cannot parse request body"; ``http_error``
    below answers the refusal it carries as the 422 it is.
    """

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
                type(data), "a number"
            )
            raise NinjaValidationError([{"loc": ("body",), "msg": f"Expected an object ({{...}}), not {kind}"}])
        return data


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"__all__": list(exc.messages)}


def install(api: NinjaAPI) -> None:
    from octopushx.api.auth import TenantSuspended, TwoFactorRequired

    def body(detail: str, errors: dict | None = None, code: str | None = None) -> dict:
        data = {"detail": detail, "errors": errors or {}}
        if code:
            data["code"] = code
        return data

    def refuse_forbidden_text(run):
        """Every string the API receives (body, query, form) passes core.text's rule, before parsing."""
        operation = getattr(run, "__self__", None)
        models = getattr(operation, "models", None)
        sources = {getattr(m, "__ninja_param_source__", None) for m in models or []}
        multipart_body = any(hasattr(m, "__ninja_body_params__") for m in models or [])
        reads_form = models is None or bool(sources & {"form", "file"}) or multipart_body
        reads_body = models is None or "body" in sources

        @functools.wraps(run)
        def guarded(request, *args, **kwargs):
            from octopushx.core import text

            if errors := text.request_problems(request, reads_form=reads_form, reads_body=reads_body):
                # Who is asking comes first, as for every other refusal: a caller without a valid token
                # learns only that (401/403), never how the body would have been judged.
                if operation is not None and operation.auth_callbacks:
                    denied = operation._run_authentication(request)
                    if denied is not None:
                        return denied
                return api.create_response(request, body("The request has invalid fields", errors), status=422)
            return run(request, *args, **kwargs)

        return guarded

    api.add_decorator(refuse_forbidden_text, mode="view")

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request, exc):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            loc = [
                str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "form", "payload", "data")
            ]
            errors.setdefault(".".join(loc) or "__all__", []).append(error.get("msg", "Invalid value"))
        return api.create_response(request, body("The request has invalid fields", errors), status=422)

    @api.exception_handler(ValidationError)
    def invalid_data(request, exc):
        return api.create_response(request, body("The request has invalid fields", _field_errors(exc)), status=422)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, body("Not found"), status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return api.create_response(request, body(str(exc) or "You do not have permission"), status=403)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = api.create_response(
            request, body("Authentication required: send Authorization: Bearer <token>"), status=401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(TenantSuspended)
    def suspended(request, exc):
        return api.create_response(
            request,
            body("This organisation is suspended", code=exc.tenant.suspension_reason or "suspended"),
            status=403,
        )

    @api.exception_handler(TwoFactorRequired)
    def second_factor_required(request, exc):
        return api.create_response(request, body(exc.message, code="2fa_required"), status=403)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if isinstance(exc.__cause__, NinjaValidationError):  # JsonObjectParser's refusal
            return invalid_input(request, exc.__cause__)
        return api.create_response(request, body(str(exc)), status=exc.status_code)


def document_statuses(api: NinjaAPI) -> None:
    """Add the error answers every operation can give to its documented responses.

    The handlers above answer them for every operation; documenting each by hand drifted (most
    operations documented only their success, so a client generated from the OpenAPI document
    had no type for a 404 or a 422). Run once the routers are mounted: ninja builds the mounted
    operations (its bound routers) once and serves and documents those.
    """
    for bound_router in api._get_bound_routers():
        for path, path_view in bound_router.path_operations.items():
            for operation in path_view.operations:
                statuses = [429]  # the rate limits (RateLimitMiddleware) cover every API path
                if operation.auth_callbacks:
                    statuses += [401, 403]  # no or a revoked token; a role, a suspension, CSRF
                if "{" in path:
                    statuses.append(404)  # another tenant's id is a 404 like a missing one
                if operation.models:
                    statuses.append(422)  # parameters or a body that do not validate
                sources = {model.__ninja_param_source__ for model in operation.models}
                if "body" in sources:
                    statuses.append(400)  # a body that is not JSON
                if sources & {"body", "form", "file"}:
                    statuses.append(413)  # a body above the size limit (RequestSizeLimitMiddleware)
                for status in statuses:
                    if status not in operation.response_models:
                        operation.response_models[status] = operation._create_response_model(ErrorOut)
