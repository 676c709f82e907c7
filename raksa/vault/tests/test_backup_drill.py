"""The key-custody drills of docs/DEPLOY.md, run as written: back up the main database and the key
store with pg_dump, restore both into fresh databases and read; then shred a person, restore the
main database's OLD backup beside the CURRENT key store, and find that person's data unreadable (S4).
And the escrow drill: a site whose keys came from `raksa keys generate`, its server lost, restored
from the backups and the escrowed copy of those lines alone (S4, C2)."""

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
ESCROWED_ADDRESS = "escrow-drill@example.org"

# The site at work under the generated keys: a person's request and an account's address, sealed.
WRITE = """
from django.db import transaction
from raksa.accounts import addresses
from raksa.core import demo
from raksa.rights import actions as rights
from raksa.rights.models import RequestType
from raksa.subjects.actions import create_subject
from raksa.testing import accounts as personas
from raksa.vault.routers import KEYSTORE
demo.load_organisations()
filed = rights.file_request(subject=create_subject(), type=RequestType.ACCESS, details={canary!r})
with transaction.atomic(), transaction.atomic(using=KEYSTORE):
    addresses.store(personas.citizen("escrowed"), {address!r})
print(filed.id)
"""
# After the restore: the request opened, and the account found by its address (the index key).

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


FIND_ACCOUNT = """
from raksa.accounts import addresses
user = addresses.find_user({address!r})
print(user.username if user else "(not found)")
"""


def _escrowed(lines: str) -> dict[str, str]:
    """The environment an operator rebuilds from the escrowed sheet: its NAME=VALUE lines, nothing else."""
    return dict(line.split("=", 1) for line in lines.splitlines() if line.strip())


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
        # The same keys as the live site: the restored key store is wrapped under its master key.
        live = {name: getattr(settings, name) for name in devkeys.KEY_NAMES if name != "RAKSA_SECRET_KEY"}
        return self.shell(
            READ_BACK.format(request_id=request_id), main, keys, {**live, "RAKSA_SECRET_KEY": settings.SECRET_KEY}
        )

    def generate_keys(self) -> str:
        """`raksa keys generate`, as the operator runs it: the lines printed."""
        environment = {**self.environment, "DJANGO_SETTINGS_MODULE": "raksa.settings"}
        command = [sys.executable, "-m", "raksa.cli", "keys", "generate"]
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def shell(self, script: str, main: str, keys: str, key_lines: dict[str, str], *, check: bool = True) -> str:
        """`raksa shell -c SCRIPT` with these databases and keys only (no dev keys file to fall back on)."""
        environment = {
            **self.environment,
            **key_lines,
            "DJANGO_SETTINGS_MODULE": "raksa.settings",
            "RAKSA_VAR_DIR": str(self.directory),
            "DATABASE_URL": main,
            "RAKSA_KEYSTORE_URL": keys,
        }
        done = subprocess.run(
            [sys.executable, "-m", "raksa.cli", "shell", "--verbosity", "0", "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check:
            self.assertEqual(done.returncode, 0, done.stderr)
            return done.stdout.strip()
        return done.stdout.strip() if done.returncode == 0 else f"(failed) {done.stderr.strip().splitlines()[-1]}"

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

    def test_it_restores_a_lost_server_from_the_backups_and_the_escrowed_keys_alone_s4(self) -> None:
        """docs/DEPLOY.md, "Escrow drill": generate, seal a copy, lose the server, restore, read."""
        generated = self.generate_keys()
        escrow = self.directory / "escrow.env"  # the sealed copy: the server's own file is lost below
        escrow.write_text(generated)
        main, keys = (_url(alias, connections[alias].settings_dict["NAME"]) for alias in ("default", KEYSTORE))
        request_id = self.shell(WRITE.format(canary=CANARY, address=ESCROWED_ADDRESS), main, keys, _escrowed(generated))
        main_backup, keys_backup = self.back_up("default", "main-escrow"), self.back_up(KEYSTORE, "keys-escrow")

        restored = (
            self.restore("default", main_backup, "escrow_main"),
            self.restore(KEYSTORE, keys_backup, "escrow_keys"),
        )
        from_escrow = _escrowed(escrow.read_text())
        self.assertEqual(self.shell(READ_BACK.format(request_id=request_id), *restored, from_escrow), CANARY)
        self.assertEqual(self.shell(FIND_ACCOUNT.format(address=ESCROWED_ADDRESS), *restored, from_escrow), "escrowed")

        # Not blind: without the escrowed master key the restored pair opens nothing.
        other = _escrowed(self.generate_keys())
        wrong_master = {**from_escrow, "RAKSA_MASTER_KEY": other["RAKSA_MASTER_KEY"]}
        failed = self.shell(READ_BACK.format(request_id=request_id), *restored, wrong_master, check=False)
        self.assertTrue(failed.startswith("(failed)"), failed)
        self.assertNotIn(CANARY, failed)
