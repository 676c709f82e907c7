"""The JSON API under /api/v1/ (issue 11): what a citizen can do on the website, for the application (C4).

Each router module serves one domain and calls that app's access helpers and actions, as its web
views do; nothing here decides anything the website would decide differently.
"""

from typing import Any

from django.http import HttpRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from raksa.api import problems, throttling
from raksa.api.docs import SiteSwagger
from raksa.api.routers import accounts, consent, content, corrections, erasure, exports, rights, services

ERROR_STATUSES = {
    "400": "The body is not valid JSON.",
    "401": "No valid token (or session).",
    "403": "A session request without its CSRF token.",
    "404": "Nothing here, or not yours.",
    "405": "This path does not take that method.",
    "413": "The body is too large.",
    "422": "Some fields are not right (see `errors`).",
    "429": "Too many requests (see `Retry-After`).",
}


class ReadableJSON(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class RaksaAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Documents the problem documents every operation may answer, with their media type."""
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["components"].setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        problem = {"content": {problems.CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses[status] = {"description": description, **problem}
        return schema


_PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "pointer", "detail"],
                "properties": {
                    "field": {"type": "string"},
                    "pointer": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}

api = RaksaAPI(
    title="Raksa",
    version="1",
    description="The citizen portal's JSON API for its mobile application. See docs/api.md.",
    urls_namespace="api",
    docs=SiteSwagger(),
    docs_url="/docs",
    docs_decorator=require_GET,
    openapi_url="/openapi.json",
    throttle=[throttling.EVERY_REQUEST],
    renderer=ReadableJSON(),
)
problems.install(api)
api.add_router("", accounts.router)
api.add_router("", consent.router)
api.add_router("", services.router)
api.add_router("", rights.router)
api.add_router("", exports.router)
api.add_router("", erasure.router)
api.add_router("", corrections.router)
api.add_router("", content.router)


@csrf_exempt  # it changes nothing, and must answer 404 to every method
def not_found(request: HttpRequest, rest: str) -> Any:
    """Any other path under /api/v1/: a problem document, not the site's HTML page."""
    return problems.response(problems.Problem("not-found"))
