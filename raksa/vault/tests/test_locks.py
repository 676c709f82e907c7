"""The locks sealing and destroying keys take: their order, their number, and how long a destroyer waits."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest.mock import patch

from django.conf import settings
from django.db import connection, connections, transaction
from django.test import TransactionTestCase, override_settings

from raksa import devkeys
from raksa.audit import actions as audit
from raksa.audit.models import AuditEntry
from raksa.subjects.models import Subject
from raksa.testing.concurrency import beginning_a_write_on_another_connection
from raksa.vault import actions, crypto, keys
from raksa.vault.models import DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE
from raksa.vault.tests import factories
from raksa.vault.tests.vaultcase.models import Dossier


class RotationLockOrderTests(factories.DossierTests, TransactionTestCase):
    databases = "__all__"

    def test_it_holds_the_main_database_before_the_key_store_when_it_writes_its_audit_entry(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest(
                "PostgreSQL's audit insert waits for no lock a writer holds; SQLite's one writer per database does"
            )
        factories.dossier(factories.person(), factories.controller(), **factories.CANARIES)
        record = audit.record
        main_when_recorded: list[str] = []

        def recording(**arguments: object) -> AuditEntry:
            if arguments["action"] == "vault.rotate" and connections[KEYSTORE].in_atomic_block:
                # A writer holding the main database and waiting for the key store would wait for us.
                main_when_recorded.append(beginning_a_write_on_another_connection())
            return record(**arguments)  # type: ignore[arg-type]

        new_master = devkeys.generate_keys()["RAKSA_MASTER_KEY"].replace("m", "rotated-m", 1)
        with (
            override_settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[settings.RAKSA_MASTER_KEY]),
            patch.object(audit, "record", recording),
        ):
            self.assertEqual(actions.rotate_master_key().rewrapped, 3)
        self.assertEqual(len(main_when_recorded), 1)
        self.assertIn("locked", main_when_recorded[0])
        self.assertTrue(AuditEntry.objects.filter(action="vault.rotate").exists())


class _KeyStoreRowsLocked(threading.Thread):
    """Holds a person's key-store rows locked (as a key-store transaction of another session would) until
    released, or for 30 s."""

    def __init__(self, subject: Subject) -> None:
        super().__init__(name="key-store-locker")
        self.subject = subject
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic(using=KEYSTORE):
                list(DataKey.objects.using(KEYSTORE).select_for_update().filter(subject_id=self.subject.id))
                self.locked.set()
                self.release.wait(30)
        finally:
            connections.close_all()


def _free_for_writers(subject: Subject) -> bool:
    """Whether a writer could hold the person in the main database now (PostgreSQL)."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock_shared(%s, %s)", [keys.SUBJECT_LOCK, keys.lock_id(subject.id.hex)]
            )
            return bool(cursor.fetchone()[0])
    finally:
        other.close()


class DestroyerLockWaitTests(factories.DossierTests, TransactionTestCase):
    """A destruction holds its people in the main database while it writes the key store: a key-store row
    lock it met there would make it wait holding them. It gives up after KEY_STORE_LOCK_TIMEOUT_MS, lets
    them go and tries again like a person a writer holds."""

    databases = "__all__"

    def destroys_after_letting_go(self, subject: Subject, destroy: Callable[[], int]) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite's key store is one writer's lock, taken in order at BEGIN: no row lock to wait on")
        locker = _KeyStoreRowsLocked(subject)
        pause = keys.wait_for_writers
        free_while_waiting: list[bool] = []

        def letting_go(seconds: float) -> None:
            free_while_waiting.append(_free_for_writers(subject))
            locker.release.set()
            pause(seconds)

        locker.start()
        self.assertTrue(locker.locked.wait(30))
        try:
            with patch.object(keys, "wait_for_writers", letting_go):
                destroyed = destroy()
        finally:
            locker.release.set()
            locker.join()
        self.assertEqual(free_while_waiting[:1], [True])
        self.assertEqual(destroyed, 3)
        self.assertFalse(DataKey.objects.using(KEYSTORE).filter(subject_id=subject.id, destroyed_at=None).exists())

    def test_an_erasure_that_meets_a_locked_key_store_row_lets_the_person_go_and_tries_again(self) -> None:
        subject = factories.person()
        factories.dossier(subject, factories.controller(), **factories.CANARIES)
        self.destroys_after_letting_go(subject, lambda: actions.shred(subject_id=subject.id).keys)
        self.assertEqual(AuditEntry.objects.filter(action="vault.shred").count(), 1)

    def test_a_retention_destruction_that_meets_a_locked_key_store_row_lets_the_person_go_and_tries_again(self) -> None:
        subject = factories.person()
        factories.dossier(subject, factories.controller(), **factories.CANARIES)
        Dossier.objects.filter(subject=subject).delete()

        def unused() -> int:
            codes = DataKey.objects.using(KEYSTORE).filter(subject_id=subject.id).values_list("retention", flat=True)
            return sum(
                actions.shred_unused_keys(retention=code, scopes=[(subject.id, None)]).destroyed
                for code in sorted(set(codes))
            )

        self.destroys_after_letting_go(subject, unused)

    @contextmanager
    def rows_locked_throughout(self, subject: Subject) -> Iterator[None]:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite's key store is one writer's lock, taken in order at BEGIN: no row lock to wait on")
        locker = _KeyStoreRowsLocked(subject)
        locker.start()
        try:
            self.assertTrue(locker.locked.wait(30))
            with patch.object(keys, "WAIT_SECONDS", 1.0), patch.object(keys, "KEY_STORE_LOCK_TIMEOUT_MS", 100):
                yield
        finally:
            locker.release.set()
            locker.join()

    def test_a_retention_destruction_leaves_only_the_person_whose_key_store_rows_stay_locked(self) -> None:
        owner = factories.controller()
        blocked, other = factories.person(), factories.person()
        for person in (blocked, other):
            factories.dossier(person, owner, **factories.CANARIES)
        Dossier.objects.all().delete()
        codes = sorted(set(DataKey.objects.using(KEYSTORE).values_list("retention", flat=True)))
        scopes = [(blocked.id, None), (other.id, None)]
        with self.rows_locked_throughout(blocked):
            done = [actions.shred_unused_keys(retention=code, scopes=scopes) for code in codes]
        self.assertEqual({pair for each in done for pair in each.busy}, {(blocked.id.hex, None)})
        self.assertEqual(sum(each.destroyed for each in done), 3)
        live = DataKey.objects.using(KEYSTORE).filter(destroyed_at=None)
        self.assertEqual(set(live.values_list("subject_id", flat=True)), {blocked.id})

    def test_an_erasure_whose_key_store_rows_stay_locked_fails_saying_so(self) -> None:
        subject = factories.person()
        factories.dossier(subject, factories.controller(), **factories.CANARIES)
        with self.rows_locked_throughout(subject), self.assertRaises(actions.PersonBusyError) as failed:
            actions.shred(subject_id=subject.id)
        self.assertIn("key store", str(failed.exception))
        self.assertNotIn(subject.id.hex, str(failed.exception))
        self.assertEqual(DataKey.objects.using(KEYSTORE).filter(subject_id=subject.id, destroyed_at=None).count(), 3)
        self.assertFalse(AuditEntry.objects.filter(action="vault.shred").exists())


class _UndoneError(Exception):
    pass


class SubjectsATransactionTests(factories.DossierTests, TransactionTestCase):
    """Each person a transaction seals values of is held (a lock) until it commits: PostgreSQL's lock table
    ran out at 20,000 people in one transaction. Past SUBJECTS_A_TRANSACTION the vault refuses first."""

    databases = "__all__"

    def test_it_refuses_to_seal_for_more_people_in_one_transaction_than_it_may_hold(self) -> None:
        owner = factories.controller()
        people = [factories.person() for _ in range(4)]
        with (
            patch.object(keys, "SUBJECTS_A_TRANSACTION", 3),
            self.assertRaisesMessage(crypto.VaultError, "at most 3 people"),
            transaction.atomic(),
        ):
            for person in people[:3]:
                factories.dossier(person, owner, name="Somsri")
            factories.dossier(people[0], owner, name="Somsri again")  # someone already held
            factories.dossier(people[3], owner, name="Somchai")
        self.assertFalse(Dossier.objects.exists())
        with patch.object(keys, "SUBJECTS_A_TRANSACTION", 3):
            row = factories.dossier(people[3], owner, name="Somchai")  # its own transaction
        self.assertEqual(Opener.for_subject(people[3].id).open(row.name), "Somchai")

    def test_it_forgets_the_people_a_rolled_back_savepoint_let_go_before_it_counts(self) -> None:
        owner = factories.controller()
        people = [factories.person() for _ in range(4)]
        with patch.object(keys, "SUBJECTS_A_TRANSACTION", 3), transaction.atomic():
            factories.dossier(people[0], owner, name="Somsri")
            with self.assertRaises(_UndoneError), transaction.atomic():
                for person in people[1:3]:
                    factories.dossier(person, owner, name="Somsri")
                raise _UndoneError  # those two are no longer held (PostgreSQL released their locks)
            for person in people[2:]:
                factories.dossier(person, owner, name="Somchai")
        self.assertEqual(Dossier.objects.count(), 3)
