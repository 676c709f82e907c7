"""What a thief, or an old backup, gets from the databases: no personal value in clear (C1, S4), and
nothing readable at all once the person's keys are destroyed."""

import os
import sqlite3
import subprocess
import uuid
from contextlib import closing
from unittest import skipUnless

from django.db import connections
from django.test import TransactionTestCase

from raksa.subjects.actions import erase_subject
from raksa.vault.keys import session
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE
from raksa.vault.sealed import ERASED, Sealed
from raksa.vault.tests import factories

_FIELDS = ("name", "email", "phone", "national_id", "note")
_STORE = "vaultcase.dossier"


def _sqlite_bytes(alias: str) -> bytes:
    connection = connections[alias]
    connection.ensure_connection()
    return connection.connection.serialize()


def _pg_dump(alias: str) -> bytes:
    settings = connections[alias].settings_dict
    command = ["pg_dump", "--no-owner", "-d", settings["NAME"]]
    for option, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if settings[key]:
            command += [option, str(settings[key])]
    environment = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    return subprocess.run(command, check=True, capture_output=True, env=environment, timeout=120).stdout


def _is_sqlite(alias: str) -> bool:
    return connections[alias].vendor == "sqlite"


class RawDumpTests(factories.DossierTests, TransactionTestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.marker = f"Control marker {uuid.uuid4()}"
        owner = factories.controller()
        owner.name_en = self.marker  # published, not personal: it must show in the dump
        owner.save()
        self.subject = factories.person()
        self.row = factories.dossier(self.subject, owner, **factories.CANARIES)

    def assert_no_canary(self, dump: bytes) -> None:
        self.assertIn(self.marker.encode(), dump)  # the dump does hold the data
        for value in (*factories.CANARIES.values(), *factories.NORMALISED_CANARIES):
            for form in (value.encode(), value.encode().hex().encode(), value.encode("utf-16-le")):
                self.assertNotIn(form, dump, value)

    @skipUnless(_is_sqlite("default"), "this test reads SQLite database bytes; PostgreSQL has the pg_dump test")
    def test_it_keeps_canaries_out_of_the_sqlite_files_c1_s4(self) -> None:
        self.assert_no_canary(_sqlite_bytes("default"))
        keystore = _sqlite_bytes(KEYSTORE)
        for value in (*factories.CANARIES.values(), *factories.NORMALISED_CANARIES):
            self.assertNotIn(value.encode(), keystore)

    @skipUnless(not _is_sqlite("default"), "pg_dump needs the PostgreSQL run of the suite (DATABASE_URL=postgres://…)")
    def test_it_keeps_canaries_out_of_a_pg_dump_c1_s4(self) -> None:
        self.assert_no_canary(_pg_dump("default"))
        keystore = _pg_dump(KEYSTORE) if not _is_sqlite(KEYSTORE) else _sqlite_bytes(KEYSTORE)
        for value in (*factories.CANARIES.values(), *factories.NORMALISED_CANARIES):
            self.assertNotIn(value.encode(), keystore)

    def test_it_leaves_a_backup_taken_before_erasure_unreadable_s4(self) -> None:
        backup = _logical_backup("default")
        file_backup = _sqlite_bytes("default") if _is_sqlite("default") else None
        opener = Opener.for_system("export")
        with session():
            self.assertEqual([opener.open(value) for value in backup], list(factories.CANARIES.values()))

        erase_subject(subject=self.subject)

        with session():
            self.assertEqual([opener.open(value) for value in backup], [ERASED] * len(_FIELDS))
        if file_backup is not None:
            with closing(sqlite3.connect(":memory:")) as restored:
                restored.deserialize(file_backup)
                values = _sealed_values(restored.execute(_SELECT).fetchone())
            with session():
                self.assertEqual([opener.open(value) for value in values], [ERASED] * len(_FIELDS))


_SELECT = f"SELECT id, {', '.join(_FIELDS)} FROM vaultcase_dossier"


def _logical_backup(alias: str) -> list[Sealed]:
    """The row as a plain SQL dump would carry it: ciphertext and ID, nothing from the vault's code."""
    with connections[alias].cursor() as cursor:
        cursor.execute(_SELECT)
        return _sealed_values(cursor.fetchone())


def _sealed_values(row: tuple) -> list[Sealed]:
    object_id = row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(row[0])
    return [
        Sealed(bytes(blob), store=_STORE, field=field, object_id=object_id)
        for field, blob in zip(_FIELDS, row[1:], strict=True)
    ]
