"""One error shape for the whole API: ``{"detail": str, "errors": {field: [messages]}}``."""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
    code: str | None = None


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"__all__": list(exc.messages)}


def install(api: NinjaAPI) -> None:
    from octopushx.api.auth import TenantSuspended

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

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return api.create_response(request, body(str(exc)), status=exc.status_code)
