"""RFC 9457 problem documents: every error the API answers, in Thai or English by Accept-Language.

Views raise `Problem`; `install(api)` turns it, and every error django-ninja or Django raise (bad
JSON, wrong types, unknown fields, a body too large, a missing token, too many requests, no such
record), into `application/problem+json` with `type`, `title`, `status`, `detail` and, for bad
input, `errors` field by field. Nothing else ever reaches the client: no stack trace, no HTML.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)

# The `type` of each problem (a URN: it names the kind, docs/api.md explains each) and its title.
TITLES = {
    "invalid-input": (422, gettext_lazy("Some of what you sent is not right.")),
    "malformed-request": (400, gettext_lazy("The request body is not valid JSON.")),
    "body-too-large": (413, gettext_lazy("The request body is too large.")),
    "unauthenticated": (401, gettext_lazy("You need to log in.")),
    "forbidden": (403, gettext_lazy("This request is not allowed.")),
    "reauthentication-required": (403, gettext_lazy("Your password is needed again for this.")),
    "not-found": (404, gettext_lazy("There is nothing here.")),
    "method-not-allowed": (405, gettext_lazy("This address does not accept that method.")),
    "conflict": (409, gettext_lazy("This cannot be done now.")),
    "gone": (410, gettext_lazy("This is no longer here.")),
    "too-many-requests": (429, gettext_lazy("Too many requests.")),
    "unavailable": (503, gettext_lazy("This is not available yet.")),
    "server-error": (500, gettext_lazy("Something went wrong on our side.")),
}
_BY_STATUS = {status: kind for kind, (status, _title) in reversed(TITLES.items())}


def type_uri(kind: str) -> str:
    return f"urn:raksa:problem:{kind}"


class Problem(Exception):  # noqa: N818  (it is what the client receives, by the RFC's name)
    """An error to answer as a problem document. `errors` maps a field to its messages."""

    def __init__(
        self,
        kind: str,
        detail: str = "",
        *,
        errors: Mapping[str, Iterable[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = TITLES[kind][0]
        self.detail = detail
        self.errors = {field: [str(message) for message in messages] for field, messages in (errors or {}).items()}
        self.headers = dict(headers or {})


def invalid(errors: Mapping[str, Iterable[str]]) -> Problem:
    return Problem("invalid-input", _("Check the fields listed in “errors”; nothing was saved."), errors=errors)


def document(kind: str, detail: str = "", errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    status, title = TITLES[kind]
    body: dict[str, Any] = {"type": type_uri(kind), "title": str(title), "status": status, "detail": detail}
    if errors:
        body["errors"] = [
            {"field": field, "pointer": f"#/{field}" if field else "#", "detail": message}
            for field, messages in errors.items()
            for message in messages
        ]
    return body


def response(problem: Problem) -> HttpResponse:
    answer = HttpResponse(
        json.dumps(document(problem.kind, problem.detail, problem.errors), ensure_ascii=False),
        status=problem.status,
        content_type=CONTENT_TYPE,
    )
    for name, value in problem.headers.items():
        answer[name] = value
    return answer


def for_status(status: int, detail: str = "") -> HttpResponse:
    """A problem document for a plain error status (a 405 from the router, say)."""
    kind = _BY_STATUS.get(status, "server-error" if status >= 500 else "forbidden")
    return response(Problem(kind, detail))


# Ninja's validation errors, in the person's language --------------------------------------------
_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("This field is not accepted here."),
    "string_too_long": gettext_lazy("This is too long."),
    "string_too_short": gettext_lazy("This is too short."),
    "too_long": gettext_lazy("There are too many items."),
    "literal_error": gettext_lazy("This is not one of the accepted values."),
    "enum": gettext_lazy("This is not one of the accepted values."),
    "uuid_parsing": gettext_lazy("This is not a valid ID."),
    "uuid_type": gettext_lazy("This is not a valid ID."),
    "greater_than_equal": gettext_lazy("This number is too small."),
    "less_than_equal": gettext_lazy("This number is too large."),
    "model_attributes_type": gettext_lazy("This must be a JSON object."),
    "dict_type": gettext_lazy("This must be a JSON object."),
    "model_type": gettext_lazy("This must be a JSON object."),
}
# Where ninja names the parameter itself rather than a field of it.
_PARAMETER_ROOTS = {"body", "query", "path", "header", "cookie", "form"}


def _field(location: Iterable[Any], parameter_names: set[str]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in _PARAMETER_ROOTS:
        parts = parts[1:]
    if parts and parts[0] in parameter_names:
        parts = parts[1:]
    return "/".join(parts)


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in _MESSAGES:
        return str(_MESSAGES[kind])
    if kind.endswith(("_type", "_parsing")):
        return _("This has the wrong type.")
    return _("This is not valid.")


def from_validation(exc: ValidationError, parameter_names: set[str]) -> Problem:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field(error.get("loc", ()), parameter_names), []).append(_message(error))
    return invalid(errors)


# Wiring ------------------------------------------------------------------------------------------
# The names views give their body and query parameters (they are not fields the client sends).
PARAMETER_NAMES = {"payload", "page"}


def install(api: NinjaAPI) -> None:
    def on_problem(request: HttpRequest, exc: Any) -> HttpResponse:
        return response(exc)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        return response(from_validation(exc, PARAMETER_NAMES))

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc, Throttled):
            return response(Problem("too-many-requests", _("Wait a little, then try again.")))
        if isinstance(exc, AuthenticationError) or exc.status_code == 401:
            return response(
                Problem(
                    "unauthenticated",
                    _("Send a valid token (Authorization: Bearer …), or log in again: tokens expire."),
                    headers={"WWW-Authenticate": "Bearer"},
                )
            )
        if exc.status_code == 400:
            # Ninja's only plain 400: a body it could not parse.
            return response(Problem("malformed-request", _("Send the body as one JSON object.")))
        if exc.status_code == 403:
            return response(Problem("forbidden", _("Reload the page and try again (the CSRF check failed).")))
        return for_status(exc.status_code)

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return response(Problem("not-found"))

    def on_too_large(request: HttpRequest, exc: Any) -> HttpResponse:
        return response(Problem("body-too-large", _("Send less data in one request.")))

    def on_anything_else(request: HttpRequest, exc: Any) -> HttpResponse:
        # The trace goes to the server's log (no request data in it), never to the client.
        logger.exception("API error in %s %s", request.method, request.resolver_match and request.resolver_match.route)
        return response(Problem("server-error", _("The error was recorded. Try again later.")))

    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(RequestDataTooBig, on_too_large)
    api.add_exception_handler(Exception, on_anything_else)


def from_form(form: Any, *, rename: Mapping[str, str] | None = None) -> Problem:
    """A Django form's errors (already in the person's language) as a problem; "" is the whole request."""
    rename = rename or {}
    errors = {
        ("" if field == "__all__" else rename.get(field, field)): list(messages)
        for field, messages in form.errors.items()
    }
    return invalid(errors)
