"""The key-custody drill of docs/DEPLOY.md, run as written: back up the main database and the key
store with pg_dump, restore both into fresh databases and read; then shred a person, restore the
main database's OLD backup beside the CURRENT key store, and find that person's data unreadable (S4)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, connections
from django.test import TransactionTestCase

from raksa import devkeys
from raksa.core import demo
from raksa.rights import actions as rights
from raksa.rights.models import RequestType
from raksa.subjects.actions import create_subject, erase_subject
from raksa.vault.routers import KEYSTORE

CANARY = "ขอสำเนาทะเบียนบ้าน drill-canary-5e1d"

# What an operator runs against a restored pair to check it reads (docs/DEPLOY.md, "Restore drill").
READ_BACK = """
from raksa.rights.models import RightsRequest
from raksa.vault.keys import session
from raksa.vault.openers import Opener
from raksa.vault.sealed import ERASED
with session():
    case = RightsRequest.objects.get(pk={request_id!r})
    value = Opener.for_subject(case.subject_id).open(case.details)
    print("(erased)" if value is ERASED else value)
"""


def _server_options(alias: str) -> list[str]:
    database = connections[alias].settings_dict
    options = []
    for option, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if database[key]:
            options += [option, str(database[key])]
    return options


def _url(alias: str, name: str) -> str:
    database = connections[alias].settings_dict
    credentials = f"{database['USER']}:{database['PASSWORD']}@" if database["USER"] else ""
    return f"postgres://{credentials}{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{name}"


class BackupDrillTests(TransactionTestCase):
    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql" or connections[KEYSTORE].vendor != "postgresql":
            self.skipTest("the drill uses pg_dump and pg_restore: it runs in the PostgreSQL half of the suite")
        self.directory = Path(tempfile.mkdtemp(prefix="raksa-drill-"))
        self.environment = {**os.environ, "PGPASSWORD": connection.settings_dict["PASSWORD"] or ""}

    def back_up(self, alias: str, name: str) -> Path:
        backup = self.directory / f"{name}.dump"
        database = connections[alias].settings_dict["NAME"]
        command = ["pg_dump", "--format=custom", "--no-owner", f"--file={backup}", *_server_options(alias), database]
        subprocess.run(command, check=True, env=self.environment, capture_output=True, timeout=120)
        return backup

    def restore(self, alias: str, backup: Path, suffix: str) -> str:
        """Restores into a fresh database named after the test database; returns its URL."""
        name = f"{connections[alias].settings_dict['NAME']}_{suffix}"[:63]
        with psycopg.connect(_url(alias, "postgres").replace("postgres://", "postgresql://"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.addCleanup(self.drop, alias, name)
        command = [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            *_server_options(alias),
            f"--dbname={name}",
            str(backup),
        ]
        subprocess.run(command, check=True, env=self.environment, capture_output=True, timeout=120)
        return _url(alias, name)

    def drop(self, alias: str, name: str) -> None:
        with psycopg.connect(_url(alias, "postgres").replace("postgres://", "postgresql://"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def read_back(self, main: str, keys: str, request_id: str) -> str:
        environment = {
            **self.environment,
            # The same keys as the live site: the restored key store is wrapped under its master key.
            **{name: getattr(settings, name) for name in devkeys.KEY_NAMES if name != "RAKSA_SECRET_KEY"},
            "RAKSA_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "raksa.settings",
            "DATABASE_URL": main,
            "RAKSA_KEYSTORE_URL": keys,
        }
        script = READ_BACK.format(request_id=request_id)
        done = subprocess.run(
            [sys.executable, "-m", "raksa.cli", "shell", "--verbosity", "0", "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.strip()

    def test_it_reads_a_restored_pair_and_nothing_shredded_from_an_old_backup_s4(self) -> None:
        demo.load_organisations()
        subject = create_subject()
        filed = rights.file_request(subject=subject, type=RequestType.ACCESS, details=CANARY)
        main_before = self.back_up("default", "main-before")
        keys_before = self.back_up(KEYSTORE, "keys-before")
        restored = self.read_back(
            self.restore("default", main_before, "drill_main"),
            self.restore(KEYSTORE, keys_before, "drill_keys"),
            str(filed.id),
        )
        self.assertEqual(restored, CANARY)

        erase_subject(subject=subject)
        keys_now = self.back_up(KEYSTORE, "keys-now")
        after_shred = self.read_back(
            self.restore("default", main_before, "drill_old_main"),
            self.restore(KEYSTORE, keys_now, "drill_keys_now"),
            str(filed.id),
        )
        self.assertEqual(after_shred, "(erased)")
        self.assertNotIn(CANARY.encode(), main_before.read_bytes())
