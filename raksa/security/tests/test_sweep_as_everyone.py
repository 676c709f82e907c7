"""The whole site as everyone sees it, swept once for the class (every route, as each reader), then
checked two ways:

- the security headers of every response, to visitors, citizens and staff (S1);
- no personal data where it must not be (S1, S3): while B, the staff and visitors use every feature
  (each page read, each of its forms submitted with canary values), no canary reaches any log line,
  access-log spool file or table, audit entry, background-task argument or error page. Only the
  vault's sealed columns may hold them (encrypted).

One sweep serves both: building the world and reading every page as six people was most of either
test's time when each swept on its own. Each person (the superuser aside) submits every form they were
shown once they have read every page, before the next person reads: what they typed is then shown to
everyone read after them (the staff read B's, and the visitor's), where it could leak, while each
reader's pages still show the world as the people before them left it.
"""

import io
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.db import models
from django.test import TestCase, override_settings

from raksa.accesslog import spool
from raksa.accesslog.ingest import ingest_spool
from raksa.accounts.models import User
from raksa.security.tests import world
from raksa.security.tests.forms import forms_in
from raksa.security.tests.markup import inline_code
from raksa.security.tests.sweep import METHODS, exchanges
from raksa.testing import accounts as personas

# Everyone whose pages differ: visitors, a citizen with records, the staff consoles, the admin.
READERS = {
    "anonymous": METHODS,
    "citizen_b": METHODS,
    "officer": METHODS,
    "dpo": METHODS,
    "investigator": METHODS,
    "contractor": METHODS,
    "superuser": ("GET",),
}
# Who submits every form they are shown, with canary values (the superuser's admin forms would
# delete the world's records).
FORM_FILLERS = ("anonymous", "citizen_b", "officer", "dpo", "investigator", "contractor")
PEOPLE = ("anonymous", "citizen_b")
# Minburi's own records and a court's order number: not personal data, kept in plain text by design.
NOT_PERSONAL = frozenset({"policy_draft", "mailing", "breach", "legal_hold", "retention_hold", "court_order"})
# Where a canary is allowed in plain text: the user ID a person chose to log in with (A2).
PLAIN_BY_DESIGN = {("accounts.user", "username")}
PROTECTIONS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
STRICT_DIRECTIVES = {"object-src": ["'none'"], "base-uri": ["'none'"], "frame-ancestors": ["'none'"]}
NEVER_ALLOWED = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"}


@dataclass(frozen=True)
class Seen:
    where: str
    actor: str
    status: int
    html: bool
    headers: dict[str, str]
    inline_problems: tuple[str, ...]
    secrets: tuple[str, ...]


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def _inline_problems(body: str, policy: dict[str, list[str]]) -> tuple[str, ...]:
    code = inline_code(body)
    nonces = {value.removeprefix("'nonce-").removesuffix("'") for value in policy.get("script-src", [])}
    return (
        *(f"inline <script> without a nonce at {at}" for at in code.scripts_without_nonce),
        *(f"script nonce {nonce} not in the policy" for nonce in code.script_nonces - nonces),
        *(f"inline <style> at {at}" for at in code.styles_without_nonce),
        *code.handlers,
        *code.javascript_urls,
        *code.style_attributes,
    )


class EveryoneSweepTests(TestCase):
    databases = "__all__"
    seen: list[Seen]
    hidden: set[str]
    canaries: dict[str, str]
    error_pages: list[str]
    # Set in setUpClass, outside setUpTestData (whose attributes Django copies afresh for every test):
    # the sweep's spool directory and everything logged from the sweep on.
    spool_directory: Path
    log: io.StringIO

    @classmethod
    def setUpClass(cls) -> None:
        cls.spool_directory = Path(tempfile.mkdtemp(prefix="raksa-canary-spool-"))
        cls.addClassCleanup(shutil.rmtree, cls.spool_directory, True)
        cls.enterClassContext(override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=cls.spool_directory))
        cls.addClassCleanup(lambda: spool.writer().close())
        cls.log = io.StringIO()
        handler = logging.StreamHandler(cls.log)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        cls.addClassCleanup(root.setLevel, root.level)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        cls.addClassCleanup(root.removeHandler, handler)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        site = world.build()
        cls.hidden = set(site.canaries) | set(site.object_ids)
        typed = f"{site.token}typed"
        site.canaries["typed"] = typed
        staff_typed = "ข้อความของเจ้าหน้าที่"  # what staff type is the agency's record, not personal data
        superuser = User.objects.create_superuser("editor", personas.PASSWORD)
        personas.with_totp(superuser)
        site.users["superuser"] = superuser
        cls.seen = []
        cls.error_pages = []
        for actor, methods in READERS.items():
            shown = []
            for found, response, body in exchanges(site, actor, methods=methods):
                html = found.status == 200 and response.get("Content-Type", "").startswith("text/html")
                headers = dict(response.items())
                policy = _policy(headers.get("Content-Security-Policy", ""))
                cls.seen.append(
                    Seen(
                        where=f"{found.method} {found.url} as {actor}",
                        actor=actor,
                        status=found.status,
                        html=html,
                        headers=headers,
                        inline_problems=_inline_problems(body, policy) if html else (),
                        secrets=found.secrets,
                    )
                )
                if actor not in FORM_FILLERS:
                    continue
                if found.status in {403, 404, 405} or found.status >= 500:
                    cls.error_pages.append(body)
                if found.method == "GET" and response.get("Content-Type", "").startswith("text/html"):
                    shown += forms_in(body, f"https://testserver{found.url}")
            # Submitted once the actor has read every page: each reader's pages show the world as the
            # readers before them left it, so the "not blind" check below still sees B's records as
            # they were made (a form of B's replaces the news consent's address before the page showing it).
            client = site.client_for(actor)
            for form in shown:
                path = urlsplit(form.action).path
                if form.method == "post" and not path.endswith(("/logout/", "/close/", "/off/")):
                    client.post(path, form.filled(typed if actor in PEOPLE else staff_typed), secure=True)
                if not site.signed_in(client, actor):
                    site.sign_in(client, actor)
        cls.canaries = dict(site.canaries)

    def test_it_renders_no_inline_code_outside_the_content_security_policy_s1(self) -> None:
        pages = [seen for seen in self.seen if seen.html]
        self.assertGreater(len(pages), 150, "the sweep rendered the site's pages")
        problems = [f"{seen.where}: {problem}" for seen in pages for problem in seen.inline_problems]
        self.assertEqual(problems, [], "\n".join(problems))

    def test_it_sends_a_strict_content_security_policy_with_every_page_s1(self) -> None:
        for seen in self.seen:
            if not seen.html:
                continue
            policy = _policy(seen.headers.get("Content-Security-Policy", ""))
            with self.subTest(seen.where):
                self.assertEqual({name: policy.get(name) for name in STRICT_DIRECTIVES}, STRICT_DIRECTIVES)
                for directive in ("default-src", "script-src", "style-src"):
                    self.assertEqual(set(policy[directive]) & NEVER_ALLOWED, set(), directive)

    def test_it_sends_the_browser_protections_with_every_response_s1(self) -> None:
        for seen in self.seen:
            with self.subTest(seen.where):
                self.assertEqual({name: seen.headers.get(name) for name in PROTECTIONS}, PROTECTIONS)

    def test_it_lets_no_cache_keep_a_response_to_a_signed_in_person_s1(self) -> None:
        """Their user ID is on every page (and their records on many): nothing may be kept on the way.

        A 204 (the API's log-out) has no content to keep.
        """
        kept = [
            f"{seen.where}: {seen.headers.get('Cache-Control')!r}"
            for seen in self.seen
            if seen.actor != "anonymous"
            and seen.status < 400
            and seen.status != 204
            and "no-store" not in seen.headers.get("Cache-Control", "")
        ]
        self.assertEqual(kept, [], "\n".join(kept))

    def test_it_finds_every_canary_where_it_belongs(self) -> None:
        """The access sweep is not blind: each canary and record ID of the world it is run on shows on
        some page to those entitled to it. (Checked on this class's sweep, which reads as they do.)
        """
        seen = {name for found in self.seen if found.actor in world.ENTITLED for name in found.secrets}
        unseen = self.hidden - seen - world.NEVER_SHOWN
        self.assertEqual(unseen, set(), "canaries no entitled person could see: the sweep would miss their leaks")

    def test_it_keeps_personal_canaries_out_of_logs_access_logs_audit_tasks_and_error_pages_s3(self) -> None:
        personal = {name: value for name, value in self.canaries.items() if name not in NOT_PERSONAL}
        spooled = "".join(path.read_text(errors="replace") for path in spool.spool_files(self.spool_directory))
        self.assertRegex(spooled, "/(th|en)/me/data/", "the access log recorded the requests")
        ingest_spool(directory=self.spool_directory)
        places = {
            "log output": self.log.getvalue(),
            "access-log spool": spooled,
            "error pages": "\n".join(self.error_pages),
        }
        found = [
            f"{name} in {place}" for place, text in places.items() for name, value in personal.items() if value in text
        ]
        found += [f"{name} in {where}" for where, name in _plain_in_tables(personal)]
        self.assertEqual(found, [], "\n".join(found))


def _plain_in_tables(canaries: dict[str, str]) -> list[tuple[str, str]]:
    """Every (model.field, canary) where a row of any table holds the canary readably."""
    hits = []
    for model in apps.get_models():
        columns = [field for field in model._meta.concrete_fields if _readable(field)]
        if not columns:
            continue
        for row in model._default_manager.values_list(*(field.attname for field in columns)):
            for field, value in zip(columns, row, strict=True):
                text = _text(value)
                for name, canary in canaries.items():
                    where = f"{model._meta.label_lower}.{field.name}"
                    if canary in text and (model._meta.label_lower, field.name) not in PLAIN_BY_DESIGN:
                        hits.append((where, name))
    return sorted(set(hits))


def _readable(field: models.Field) -> bool:
    return not isinstance(field, models.BinaryField) and field.get_internal_type() not in {
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "BigIntegerField",
        "BooleanField",
        "DateTimeField",
        "DateField",
        "UUIDField",
        "ForeignKey",
    }


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)
