"""No personal data where it must not be (S1, S3): after B, the staff and visitors used every feature
with canary values, no canary is in any log line, access-log spool file or table, audit entry,
background-task argument or error page. Only the vault's sealed columns may hold them (encrypted).
"""

import io
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.db import models
from django.test import TestCase, override_settings

from raksa.accesslog import spool
from raksa.accesslog.ingest import ingest_spool
from raksa.security.tests import world
from raksa.security.tests.forms import forms_in
from raksa.security.tests.sweep import exchanges

# Minburi's own records and a court's order number: not personal data, kept in plain text by design.
NOT_PERSONAL = frozenset({"policy_draft", "mailing", "breach", "legal_hold", "retention_hold", "court_order"})
# Where a canary is allowed in plain text: the user ID a person chose to log in with (A2).
PLAIN_BY_DESIGN = {("accounts.user", "username")}
USERS = ("anonymous", "citizen_b", "officer", "dpo", "investigator", "contractor")
PEOPLE = ("anonymous", "citizen_b")


class CanaryTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool_directory = Path(tempfile.mkdtemp(prefix="raksa-canary-spool-"))
        self.addCleanup(shutil.rmtree, self.spool_directory, True)
        self.enterContext(override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=self.spool_directory))
        self.addCleanup(spool.writer().close)
        self.log = io.StringIO()
        handler = logging.StreamHandler(self.log)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        self.addCleanup(root.removeHandler, handler)
        self.addCleanup(root.setLevel, level)

    def use_every_feature(self) -> tuple[world.World, list[str]]:
        """B's world made through the actions, then every page and form as each user; the error pages' bodies."""
        site = world.build()
        typed = f"{site.token}typed"
        site.canaries["typed"] = typed
        staff_typed = "ข้อความของเจ้าหน้าที่"  # what staff type is the agency's record, not personal data
        error_pages = []
        for actor in USERS:
            client = site.client_for(actor)
            for outcome, response, body in exchanges(site, actor):
                if outcome.status in {403, 404, 405} or outcome.status >= 500:
                    error_pages.append(body)
                if outcome.method != "GET" or not response.get("Content-Type", "").startswith("text/html"):
                    continue
                for form in forms_in(body, f"https://testserver{outcome.url}"):
                    path = urlsplit(form.action).path
                    if form.method == "post" and not path.endswith(("/logout/", "/close/", "/off/")):
                        client.post(path, form.filled(typed if actor in PEOPLE else staff_typed), secure=True)
                    if not site.signed_in(client, actor):
                        site.sign_in(client, actor)
        return site, error_pages

    def test_it_keeps_personal_canaries_out_of_logs_access_logs_audit_tasks_and_error_pages_s3(self) -> None:
        site, error_pages = self.use_every_feature()
        personal = {name: value for name, value in site.canaries.items() if name not in NOT_PERSONAL}
        spooled = "".join(path.read_text(errors="replace") for path in spool.spool_files(self.spool_directory))
        self.assertRegex(spooled, "/(th|en)/me/data/", "the access log recorded the requests")
        ingest_spool(directory=self.spool_directory)
        places = {
            "log output": self.log.getvalue(),
            "access-log spool": spooled,
            "error pages": "\n".join(error_pages),
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


def _found(canaries: dict[str, str], text: str) -> list[str]:
    return [name for name, value in canaries.items() if value in text]
