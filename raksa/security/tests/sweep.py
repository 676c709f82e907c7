"""Requests every route of the site as one actor and reports what came back (S2).

Addresses are filled with the world's real values: B's record IDs, Minburi's breach and legal hold,
Minburi's services and processor. A route with a parameter the sweep cannot fill fails loudly so a
person says what belongs there.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import translation

from raksa.security.tests.routes import SWEEP_LANGUAGE, Route, all_routes
from raksa.security.tests.world import World

METHODS = ("GET", "POST")
# Parameters that name a record of B's, or an internal record of Minburi's.
OBJECT_PARAMETERS = frozenset(
    {"registration_id", "export_id", "request_id", "breach_id", "hold_id", "user_id", "reference", "disclosure_id"}
)
# Where a route's parameter means something other than what its name means elsewhere.
ROUTE_PARAMETERS = {
    "disclosures:prepare_export": {"slug": "processor_slug"},
    "api:agency_policy": {"slug": "scope"},
    "api:agency_policy_versions": {"slug": "scope"},
    "accounts:staff_deactivate": {"user_id": "colleague_id"},
    "retention:end": {"hold_id": "retention_hold_id"},
    "accounts:staff_reset_second_factor": {"user_id": "colleague_id"},
}
REFUSED_STATUSES = frozenset({401, 403, 404, 405})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Outcome:
    route: Route
    language: str
    method: str
    url: str
    status: int
    location: str
    secrets: tuple[str, ...]

    @property
    def refused(self) -> bool:
        """A login (or second-factor) redirect, 401, 403, 404 or 405: nothing of the page was served."""
        if self.status in REFUSED_STATUSES:
            return True
        return self.status in REDIRECT_STATUSES and urlsplit(self.location).path in _sign_in_paths()

    def __str__(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        leaked = f" showing {', '.join(self.secrets)}" if self.secrets else ""
        return f"{self.method} {self.url} ({self.route.label}): {self.status}{where}{leaked}"


def _sign_in_paths() -> frozenset[str]:
    paths = {reverse("admin:login")}
    for language in ("th", "en"):
        with translation.override(language):
            paths |= {reverse("accounts:login"), reverse("accounts:two_factor")}
    return frozenset(paths)


def parameter_values(world: World, route: Route, *, random_objects: bool = False) -> dict[str, object]:
    """What goes into each of the route's parameters; with `random_objects`, record IDs nobody has."""
    values: dict[str, object] = {}
    for name in route.parameters:
        source = ROUTE_PARAMETERS.get(route.name or "", {}).get(name, name)
        if random_objects and name in OBJECT_PARAMETERS:
            values[name] = 987654321 if isinstance(_fill(world, route, source), int) else uuid.uuid4()
        else:
            values[name] = _fill(world, route, source)
    return values


def _fill(world: World, route: Route, name: str) -> object:
    known = {**world.object_ids, **world.parameters}
    simple = {
        "slug": "certificate",
        "scope": "minburi",
        "number": 1,
        "pk": 1,
        "token": "x" * 43,
        "language": SWEEP_LANGUAGE,
        "extension": "csv",
        "name": "content/pictures/none.png",
        "url": "nowhere/",
        "rest": "nowhere",
        "purpose": "news_and_pr",
        "step": "status",
    }
    if name in known:
        return known[name]
    if name in simple:
        return simple[name]
    if route.pattern.startswith("admin/"):
        return _admin_value(route, name, world)
    raise AssertionError(
        f"The access sweep does not know what to put in <{name}> of {route.pattern}: "
        "add it to raksa/security/tests/sweep.py (a record of B's or of Minburi's where there is one)."
    )


def _admin_value(route: Route, name: str, world: World) -> object:
    """Django's admin: the app label, model and object of the route (B's registration for 'view on site')."""
    if name == "app_label":
        return "organisations"
    if route.name == "admin:view_on_site":
        registration = apps.get_model("services", "Registration")
        if name == "content_type_id":
            return ContentType.objects.get_for_model(registration).pk
        return world.object_ids["registration_id"]
    app_label, model_name = route.pattern.split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    first = model._default_manager.order_by("pk").first()
    return first.pk if first is not None else 1


def sweep(world: World, actor: str, *, methods: tuple[str, ...] = METHODS) -> Iterator[Outcome]:
    """Every route (with every method) as `actor`, signed in again whenever a request signed them out."""
    for found, _response, _body in exchanges(world, actor, methods=methods):
        yield found


def exchanges(
    world: World, actor: str, *, methods: tuple[str, ...] = METHODS
) -> Iterator[tuple[Outcome, HttpResponseBase, str]]:
    """The sweep with each response and its decoded body, for tests that look at headers and markup."""
    client = world.client_for(actor)
    for route in all_routes():
        values = parameter_values(world, route)
        for language in route.languages:
            url = route.url(values, language)
            for method in methods:
                if not world.signed_in(client, actor):
                    world.sign_in(client, actor)
                yield exchange(world, client, route, method, url, language)


def outcome(world: World, client: Client, route: Route, method: str, url: str, language: str) -> Outcome:
    return exchange(world, client, route, method, url, language)[0]


def exchange(
    world: World, client: Client, route: Route, method: str, url: str, language: str
) -> tuple[Outcome, HttpResponseBase, str]:
    response = client.generic(method, url, secure=True)
    body = _body(response)
    found = Outcome(
        route=route,
        language=language,
        method=method,
        url=url,
        status=response.status_code,
        location=response.get("Location", ""),
        secrets=tuple(world.secrets_in(body, url=url)),
    )
    return found, response, body


def _body(response: HttpResponseBase) -> str:
    streaming = getattr(response, "streaming", False)
    content = b"".join(response.streaming_content) if streaming else response.content  # type: ignore[attr-defined]
    return content.decode("utf-8", errors="replace")
