import contextvars
from unittest.mock import patch

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from raksa import devkeys
from raksa.audit import actions as audit
from raksa.audit.models import AuditEntry
from raksa.organisations.models import Controller
from raksa.subjects.actions import erase_subject
from raksa.subjects.models import Subject
from raksa.testing import writers
from raksa.vault import bulk, crypto, keys
from raksa.vault.actions import PersonBusyError, rotate_master_key, save_sealed, shred
from raksa.vault.indexes import find, normalise
from raksa.vault.keys import session
from raksa.vault.models import BlindIndex, DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE
from raksa.vault.sealed import ERASED
from raksa.vault.tests import factories
from raksa.vault.tests.vaultcase.models import Dossier

_DATA_COLUMNS = ("id", "name", "email", "phone", "national_id", "note")


def _data_rows() -> list[tuple]:
    return [tuple(map(bytes_or_value, row)) for row in Dossier.objects.order_by("id").values_list(*_DATA_COLUMNS)]


def bytes_or_value(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


class BlindIndexTests(factories.DossierTests, TestCase):
    databases = "__all__"
    controller: Controller
    subject: Subject
    row: Dossier

    @classmethod
    def setUpTestData(cls) -> None:
        cls.controller = factories.controller()
        cls.subject = factories.person()
        cls.row = factories.dossier(cls.subject, cls.controller, **factories.CANARIES)

    def test_it_finds_values_by_their_normalised_form(self) -> None:
        for kind, typed in (
            ("email", "  canary.SOMCHAI+7f3a@example.ORG "),
            ("phone", "+66 81-234-5678"),
            ("national_id", "๓ ๑๐๐๖ ๐๐๔๔๕ ๖๓ ๕"),
        ):
            [match] = find(kind, typed)
            self.assertEqual((match.subject_id, match.object_id, match.field), (self.subject.id, self.row.pk, kind))
        self.assertEqual(find("email", "someone.else@example.org"), [])
        self.assertEqual(find("phone", "not a phone"), [])

    def test_it_normalises_each_kind(self) -> None:
        self.assertEqual(normalise("email", " A@B.Example "), "a@b.example")
        self.assertEqual(normalise("national_id", "3-1006-00445-63-5"), "3100600445635")
        self.assertEqual(normalise("phone", "02 540 7214"), "+6625407214")
        with self.assertRaises(ValueError):
            normalise("national_id", "12345")

    def test_it_moves_and_drops_an_index_when_the_value_changes(self) -> None:
        row = Dossier.objects.get(pk=self.row.pk)
        row.email = "new.address@example.org"
        row.phone = None
        save_sealed(row)
        self.assertEqual(find("email", factories.CANARIES["email"]), [])
        self.assertEqual(len(find("email", "NEW.address@example.org")), 1)
        self.assertEqual(find("phone", factories.CANARIES["phone"]), [])

    def test_it_stores_only_keyed_digests(self) -> None:
        digests = BlindIndex.objects.using(KEYSTORE).values_list("digest", flat=True)
        stored = b" ".join(bytes(digest) for digest in digests)
        for value in (*factories.CANARIES.values(), *factories.NORMALISED_CANARIES):
            self.assertNotIn(value.encode(), stored)
        with override_settings(RAKSA_INDEX_KEY=devkeys.generate_keys()["RAKSA_INDEX_KEY"]):
            self.assertEqual(find("email", factories.CANARIES["email"]), [])


class BulkIdTests(factories.DossierTests, TestCase):
    databases = "__all__"

    def test_it_refuses_ids_not_in_the_form_its_rows_are_named_by(self) -> None:
        # A comma made two IDs of one in PostgreSQL's array literal; a dashed or capital ID matched
        # nothing and left its blind indexes behind without a word.
        row = factories.dossier(factories.person(), factories.controller(), **factories.CANARIES)
        indexes = BlindIndex.objects.using(KEYSTORE).filter(object_id=row.pk)
        store, count = indexes.values_list("store", flat=True).distinct().get(), indexes.count()
        self.assertGreater(count, 0)
        for wrong in (f"{row.pk.hex},{row.pk.hex}", str(row.pk), row.pk.hex.upper(), row.pk.hex + "}"):
            with self.subTest(wrong=wrong), self.assertRaises(ValueError):
                bulk.delete_indexes(store=store, object_ids=[wrong])
        self.assertEqual(bulk.delete_indexes(store=store, object_ids=[row.pk.hex]), count)
        self.assertFalse(indexes.exists())

    def test_it_destroys_a_key_two_pairs_name_once_and_no_other(self) -> None:
        # Joined with the pairs: a key named by its subject alone and with its controller matches twice.
        subject, bystander = factories.person(), factories.person()
        controller, other = factories.controller(), factories.controller("most")
        for person, owner in ((subject, controller), (subject, other), (bystander, controller)):
            factories.dossier(person, owner)
        live = DataKey.objects.using(KEYSTORE).filter(destroyed_at__isnull=True)
        retention = live.filter(subject_id=subject.id, controller_id=controller.pk).values_list("retention", flat=True)
        retention_code = retention.first()
        assert retention_code is not None
        wanted = live.filter(subject_id=subject.id, retention=retention_code)
        ids = sorted(key.bytes for key in wanted.values_list("id", flat=True))
        kept = live.exclude(subject_id=subject.id, retention=retention_code).count()
        destroyed = bulk.destroy_keys(
            retention=retention_code,
            scopes=[(subject.id.hex, None), (subject.id.hex, controller.pk), (subject.id.hex, other.pk)],
            now=timezone.now(),
        )
        self.assertEqual((sorted(destroyed), len(ids)), (ids, 2))
        self.assertFalse(wanted.exists())
        self.assertEqual(live.count(), kept)


class ShreddingTests(factories.DossierTests, TestCase):
    databases = "__all__"
    controller: Controller
    other_controller: Controller
    subject: Subject
    bystander: Subject
    row: Dossier
    elsewhere: Dossier
    neighbour: Dossier

    @classmethod
    def setUpTestData(cls) -> None:
        cls.controller = factories.controller()
        cls.other_controller = factories.controller("most")
        cls.subject = factories.person()
        cls.bystander = factories.person()
        cls.row = factories.dossier(cls.subject, cls.controller, **factories.CANARIES)
        cls.elsewhere = factories.dossier(cls.subject, cls.other_controller, name="Somsri at MOST")
        cls.neighbour = factories.dossier(cls.bystander, cls.controller, name="Neighbour")

    def open(self, row: Dossier, field: str) -> object:
        with session():
            return Opener.for_system("export").open(getattr(Dossier.objects.get(pk=row.pk), field))

    def test_it_reads_erased_after_the_subjects_keys_are_destroyed(self) -> None:
        shredded = erase_subject(subject=self.subject)
        self.assertEqual((shredded.keys, shredded.indexes), (4, 3))
        for field in ("name", "email", "phone", "national_id", "note"):
            self.assertIs(self.open(self.row, field), ERASED, field)
        self.assertTrue(Dossier.objects.get(pk=self.row.pk).name.is_erased)
        self.assertIs(self.open(self.elsewhere, "name"), ERASED)
        self.assertEqual(self.open(self.neighbour, "name"), "Neighbour")
        self.assertEqual(find("email", factories.CANARIES["email"]), [])
        self.assertEqual(str(ERASED), "ลบแล้ว")
        entry = AuditEntry.objects.get(action="vault.shred")
        self.assertEqual(
            (entry.subject_id, entry.object_id, entry.purpose), (self.subject.id, "all", "rights_requests")
        )

    def test_it_shreds_one_retention_class(self) -> None:
        shredded = shred(subject_id=self.subject.id, retention="case_file")
        self.assertEqual((shredded.keys, shredded.indexes), (1, 1))
        self.assertIs(self.open(self.row, "national_id"), ERASED)
        self.assertEqual(self.open(self.row, "name"), factories.CANARIES["name"])
        self.assertEqual(find("national_id", factories.CANARIES["national_id"]), [])
        self.assertEqual(len(find("email", factories.CANARIES["email"])), 1)

    def test_it_shreds_one_controllers_keys(self) -> None:
        shred(subject_id=self.subject.id, controller_id=self.other_controller.pk)
        self.assertIs(self.open(self.elsewhere, "name"), ERASED)
        self.assertEqual(self.open(self.row, "name"), factories.CANARIES["name"])

    def test_it_forgets_destroyed_keys_within_the_same_request(self) -> None:
        row = Dossier.objects.get(pk=self.row.pk)
        opener = Opener.for_subject(self.subject.id)
        with session():
            self.assertEqual(opener.open(row.name), factories.CANARIES["name"])
            shred(subject_id=self.subject.id)
            self.assertIs(opener.open(row.name), ERASED)

    def test_it_seals_new_data_under_a_new_key_after_erasure(self) -> None:
        shred(subject_id=self.subject.id)
        row = factories.dossier(self.subject, self.controller, name="Registered again")
        self.assertEqual(self.open(row, "name"), "Registered again")
        self.assertIs(self.open(self.row, "name"), ERASED)

    def test_a_request_that_read_values_before_the_erasure_seals_new_ones_under_a_new_key(self) -> None:
        with session():
            self.assertEqual(Opener.for_subject(self.subject.id).open(self.row.name), factories.CANARIES["name"])
            # Erased by another request meanwhile (not this one's session).
            contextvars.Context().run(shred, subject_id=self.subject.id)
            row = factories.dossier(self.subject, self.controller, name="Registered again")
        self.assertEqual(self.open(row, "name"), "Registered again")
        self.assertIs(self.open(self.row, "name"), ERASED)

    def test_an_erasure_while_a_write_for_the_person_stays_open_fails_and_destroys_nothing(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: the erasure waits")
        live = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject.id, destroyed_at__isnull=True)
        with writers.holding(self.subject.id), self.assertRaises(PersonBusyError):
            erase_subject(subject=self.subject)
        self.assertEqual(live.count(), 4)
        self.assertEqual(self.open(self.row, "name"), factories.CANARIES["name"])
        self.assertFalse(AuditEntry.objects.filter(action="vault.shred").exists())
        self.assertEqual(erase_subject(subject=self.subject).keys, 4)

    def test_an_erasure_whose_audit_entry_cannot_be_written_destroys_nothing(self) -> None:
        live = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject.id, destroyed_at__isnull=True)
        refused = DatabaseError("the audit log refused the entry")
        with patch.object(audit, "record", side_effect=refused), self.assertRaises(DatabaseError):
            shred(subject_id=self.subject.id)
        self.assertEqual(live.count(), 4)  # an erasure is never done without its entry
        self.assertEqual(self.open(self.row, "name"), factories.CANARIES["name"])
        self.assertEqual(shred(subject_id=self.subject.id).keys, 4)
        self.assertEqual(AuditEntry.objects.filter(action="vault.shred").count(), 1)


class _UndoneError(Exception):
    pass


class SealingTransactionTests(factories.DossierTests, TransactionTestCase):
    databases = "__all__"

    def test_a_value_sealed_again_after_a_savepoint_rolled_back_holds_the_person_again(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite the hold is the transaction's writer's lock, which no savepoint gives up")
        subject, other, owner = factories.person(), factories.person(), factories.controller()
        with transaction.atomic():
            factories.dossier(other, owner, name="Somchai")  # the transaction holds someone already
            with self.assertRaises(_UndoneError), transaction.atomic():
                factories.dossier(subject, owner, name="Somsri")
                raise _UndoneError  # PostgreSQL gives up the locks taken since the savepoint
            factories.dossier(subject, owner, name="Somsri")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND classid = %s::oid AND objid = %s::oid AND mode = 'ShareLock'",
                    [keys.SUBJECT_LOCK, int(subject.id.hex[:8], 16)],
                )
                self.assertEqual(cursor.fetchone()[0], 1)

    def test_it_refuses_to_seal_a_value_outside_a_transaction(self) -> None:
        subject, owner = factories.person(), factories.controller()
        with self.assertRaisesMessage(crypto.VaultError, "inside a transaction"):
            Dossier(subject=subject, controller=owner, name="Somsri").save()
        self.assertFalse(Dossier.objects.exists())
        row = factories.dossier(subject, owner, name="Somsri")  # save_sealed: in its own transaction
        self.assertEqual(Opener.for_subject(subject.id).open(row.name), "Somsri")


class RotationTests(factories.DossierTests, TestCase):
    databases = "__all__"
    controller: Controller
    subjects: list[Subject]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.controller = factories.controller()
        cls.subjects = [factories.person() for _ in range(3)]
        for subject in cls.subjects:
            factories.dossier(subject, cls.controller, **factories.CANARIES)

    def test_it_rewraps_every_key_without_touching_data_rows(self) -> None:
        old = crypto.current_master_key().key_id
        new_master = devkeys.generate_keys()["RAKSA_MASTER_KEY"].replace("m", "rotated-m", 1)
        before = _data_rows()
        with override_settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[settings.RAKSA_MASTER_KEY]):
            self.assertEqual(rotate_master_key(batch_size=2).rewrapped, 9)  # 3 people x 3 classes
            self.assertEqual(rotate_master_key().rewrapped, 0)
        self.assertEqual(_data_rows(), before)
        new_id = new_master.partition(":")[0]
        self.assertEqual(set(DataKey.objects.using(KEYSTORE).values_list("master_key_id", flat=True)), {new_id})
        with override_settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[]):
            opened = Opener.for_system("export").open_many(Dossier.objects.all(), list(factories.CANARIES))
            self.assertEqual(opened, [factories.CANARIES] * 3)
        with session(), self.assertRaisesMessage(crypto.VaultError, "not configured"):
            Opener.for_system("export").open(Dossier.objects.all()[0].name)  # the old master key alone fails
        self.assertNotEqual(old, new_id)

    def test_it_refuses_to_rotate_without_the_old_master_key(self) -> None:
        with (
            override_settings(RAKSA_MASTER_KEY=devkeys.generate_keys()["RAKSA_MASTER_KEY"]),
            self.assertRaises(crypto.VaultError),
        ):
            rotate_master_key()
