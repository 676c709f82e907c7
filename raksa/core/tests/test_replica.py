"""DATABASE_REPLICA_URL: public pages read from the replica, nothing personal does, writers read the primary.

The "replica" here is a second database made from the test database before the class starts (a
PostgreSQL template copy, or an SQLite backup), then given content of its own: a page shows which
database it read by which headline it shows.
"""

import re
import sqlite3
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from raksa.accounts.models import Session, User
from raksa.content.models import NewsItem
from raksa.core import replica
from raksa.core.replica import REPLICA, ReplicaRouter
from raksa.testing import accounts as personas

PRIMARY_ONLY = "Primary headline"
REPLICA_ONLY = "Replica headline"


def _clone_database() -> dict:
    """A copy of the test database under a new name, with the same schema and rows; its settings."""
    source = connections[DEFAULT_DB_ALIAS]
    configured = dict(source.settings_dict)
    configured["TEST"] = {**configured.get("TEST", {}), "MIRROR": None}
    if source.vendor == "sqlite":
        configured["NAME"] = str(Path(tempfile.mkdtemp(prefix="raksa-replica-")) / "replica.sqlite3")
        source.ensure_connection()
        target = sqlite3.connect(configured["NAME"])
        source.connection.backup(target)
        target.close()
        return configured
    configured["NAME"] = f"{source.settings_dict['NAME']}_replica"
    connections.close_all()  # a template database may have no other session while it is copied
    with source._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{configured["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{configured["NAME"]}" TEMPLATE "{source.settings_dict["NAME"]}"')
    return configured


def _drop_database(configured: dict) -> None:
    connections[REPLICA].close()
    del connections[REPLICA]
    # connections.settings is settings.DATABASES itself, filled in.
    settings.DATABASES.pop(REPLICA, None)
    connections.settings.pop(REPLICA, None)
    if configured["ENGINE"].endswith("sqlite3"):
        Path(configured["NAME"]).unlink(missing_ok=True)
        return
    with connections[DEFAULT_DB_ALIAS]._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{configured["NAME"]}"')


@override_settings(RAKSA_PUBLIC_PAGE_SECONDS=0)
class ReplicaTests(TestCase):
    databases = "__all__"
    citizen: User

    @classmethod
    def setUpClass(cls) -> None:
        configured = _clone_database()
        settings.DATABASES[REPLICA] = configured
        connections.settings[REPLICA] = configured
        cls.addClassCleanup(_drop_database, configured)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        personas.platform_operator()
        NewsItem.objects.using(REPLICA).create(
            title_th=REPLICA_ONLY, title_en=REPLICA_ONLY, summary_th="ข่าว", body_th="ข่าว", published_at=timezone.now()
        )
        NewsItem.objects.create(
            title_th=PRIMARY_ONLY, title_en=PRIMARY_ONLY, summary_th="ข่าว", body_th="ข่าว", published_at=timezone.now()
        )
        cls.citizen = personas.citizen()

    def test_it_serves_the_public_news_page_from_the_replica(self) -> None:
        with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
            page = self.client.get("/en/news/", secure=True)
        self.assertContains(page, REPLICA_ONLY)
        self.assertNotContains(page, PRIMARY_ONLY)
        self.assertTrue(replica_queries.captured_queries)

    def test_it_reads_nothing_but_public_tables_from_the_replica(self) -> None:
        public_tables = {model._meta.db_table for model in apps.get_models() if _key(model) in replica.PUBLIC_MODELS}
        with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
            for path in ("/en/news/", "/th/services/", "/en/privacy/", "/en/"):
                self.client.get(path, secure=True)
        read = {table for query in replica_queries.captured_queries for table in _tables(query["sql"])}
        self.assertTrue(read)
        counted = {model._meta.db_table for model in apps.get_models() if _key(model) in replica.COUNTED_MODELS}
        self.assertLessEqual(read, public_tables | counted)
        for query in replica_queries.captured_queries:
            selected = _COUNT.sub("", query["sql"].split(" FROM ", 1)[0])
            with self.subTest(query["sql"][:200]):
                self.assertFalse([table for table in counted if f'"{table}".' in selected], "a counted table's values")

    def test_it_serves_a_signed_in_person_from_the_primary(self) -> None:
        self.client.force_login(self.citizen)
        with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
            page = self.client.get("/en/news/", secure=True)
        self.assertContains(page, PRIMARY_ONLY)
        self.assertEqual(replica_queries.captured_queries, [])

    def test_it_never_reads_personal_data_or_pages_outside_the_list_from_the_replica(self) -> None:
        with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
            self.client.get("/en/accounts/login/", secure=True)
            self.client.get("/en/news/rss.xml", secure=True)
            self.client.post("/en/news/", secure=True)
        self.assertEqual(replica_queries.captured_queries, [])

    def test_it_reads_the_primary_after_a_write_in_the_same_request(self) -> None:
        router = ReplicaRouter()
        token = replica._reading.set(replica._Reading())
        try:
            self.assertEqual(router.db_for_read(NewsItem), REPLICA)
            self.assertEqual(router.db_for_read(User), DEFAULT_DB_ALIAS, "personal data: never the replica")
            self.assertEqual(router.db_for_read(Session), DEFAULT_DB_ALIAS)
            router.db_for_write(NewsItem)
            self.assertEqual(router.db_for_read(NewsItem), DEFAULT_DB_ALIAS)
        finally:
            replica._reading.reset(token)
        self.assertIsNone(router.db_for_read(NewsItem), "outside a public page the router says nothing")


_COUNT = re.compile(r"COUNT\((?:DISTINCT )?[^()]*\)(?: FILTER \(WHERE [^()]*(?:\([^()]*\)[^()]*)*\))?")


def _key(model: type[Model]) -> tuple[str, str | None]:
    return (model._meta.app_label, model._meta.model_name)


def _tables(sql: str) -> set[str]:
    """The quoted table names a query names (Django quotes every table it writes into SQL)."""
    known = {model._meta.db_table for model in apps.get_models()}
    return {name for name in re.findall(r'"([a-z0-9_]+)"', sql) if name in known}
