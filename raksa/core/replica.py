"""Public pages read from a PostgreSQL streaming replica, when one is configured (DATABASE_REPLICA_URL).

Only what every visitor sees alike may come from the replica: an anonymous GET of one of the pages
named in `REPLICA_VIEWS` (news, the services list, the policy pages…), and of those only the tables
in `PUBLIC_MODELS` (published content, services, agencies, policy versions, the registry's
declarations). Everything else stays on the primary:

- anything signed in: whoever might have just written something reads the primary, so a change is
  seen by its author at once (read-your-writes across requests), replica lag or not;
- every model not listed (accounts, sessions, the vault's rows, registrations, the audit and
  access logs): personal data is never read from a copy that may lag behind an erasure;
- anything after a write in the same request (`db_for_write` marks the request), or inside a
  transaction on the primary (read-your-writes within a request);
- the key store, which has no replica.

Without DATABASE_REPLICA_URL the router answers nothing and Django's default routing applies.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from raksa.vault.routers import KEYSTORE_MODELS

REPLICA = "replica"

# The pages whose reads may come from the replica (URL names, as `request.resolver_match` gives them).
REPLICA_VIEWS = frozenset(
    {
        "core:home",
        "content:news",
        "content:news_detail",
        "content:videos",
        "content:video_detail",
        "content:website_policy",
        "content:security_policy",
        "content:about",
        "content:page",
        "content:agencies",
        "content:links",
        "services:list",
        "services:detail",
        "services:calendar",
        "services:calendar_list",
        "consent:privacy_policy",
        "consent:agency_policy",
        "consent:policy_version",
        "consent:read_changes",
        "consent:policy_diff",
    }
)
# What those pages may read from the replica: published, public records without personal data.
PUBLIC_MODELS = frozenset(
    {
        ("content", "newsitem"),
        ("content", "newspicture"),
        ("content", "video"),
        ("content", "page"),
        ("content", "recommendedlink"),
        ("content", "siteappearance"),
        ("services", "service"),
        ("services", "servicefield"),
        ("services", "noticeversion"),
        ("organisations", "controller"),
        ("organisations", "agency"),
        ("consent", "policyversion"),
    }
)

# Tables a public page only counts (the places taken on a service): joined into a public query, never
# a value read. The action that takes a place counts again on the primary.
COUNTED_MODELS = frozenset({("services", "registration")})


@dataclass
class _Reading:
    written: bool = False


_reading: ContextVar[_Reading | None] = ContextVar("raksa_replica_reading", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


def _in_transaction() -> bool:
    """A transaction of the request's own on the primary (a test case's wrapping one does not count)."""
    blocks = connections[DEFAULT_DB_ALIAS].atomic_blocks
    return not all(getattr(block, "_from_testcase", False) for block in blocks)


class ReplicaRouter:
    """Listed before the key-store router: it answers only while a public page is being served."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        reading = _reading.get()
        meta = model._meta
        if reading is None or (meta.app_label, meta.model_name) in KEYSTORE_MODELS:
            return None
        public = (meta.app_label, meta.model_name) in PUBLIC_MODELS
        if public and not reading.written and not _in_transaction():
            return REPLICA
        # Said outright: Django would otherwise follow a related row's database to the replica.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        reading = _reading.get()
        if reading is not None:
            reading.written = True
        return None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # A replica row and a primary row are the same rows: relations between them are fine.
        if {obj1._state.db, obj2._state.db} == {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        # The replica follows the primary's schema by streaming replication.
        return False if db == REPLICA else None


class ReplicaReadsMiddleware:
    """Inside the authentication middleware: marks an anonymous GET of a public page for the router."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            token = request.__dict__.pop("_replica_reading", None)
            if token is not None:
                _reading.reset(token)

    def process_view(self, request: HttpRequest, view: object, args: object, kwargs: object) -> None:
        match = request.resolver_match
        if (
            configured()
            and request.method in {"GET", "HEAD"}
            and match is not None
            and match.view_name in REPLICA_VIEWS
            and not request.user.is_authenticated
        ):
            request.__dict__["_replica_reading"] = _reading.set(_Reading())
