"""The retention engine, store by store, with the clock given explicitly (a frozen clock).

Each store's records are made through their app's actions at the real time `start`; the engine is
then asked about `start + period ± one day`: the day before nothing leaves, the day after it does,
and the plan at that time counts exactly what the run then removes.
"""

import base64
import contextvars
import datetime
import io
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone, translation

from raksa.accounts import addresses
from raksa.accounts import tokens as account_tokens
from raksa.accounts.models import AccountEmail, AccountToken, AppToken, Session, TokenPurpose, User
from raksa.audit.models import AuditEntry
from raksa.consent import actions as consent
from raksa.consent.models import Consent, ConsentEvent, Inquiry
from raksa.core import demo
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.registry import ACCESS_LOG, CASE_FILE, CONSENT_EVIDENCE, INQUIRY, SERVICE_RECORD
from raksa.retention import actions, engine
from raksa.retention import holds as legal_holds
from raksa.retention.actions import end_hold, place_hold, run_retention
from raksa.retention.models import KeyStoreWork
from raksa.retention.rules import Period, Rule, RuleRefusedError, check_period, register, rule, unregister
from raksa.rights import actions as rights
from raksa.rights.models import Export, ExportStatus, RightsRequest, Status
from raksa.services import actions as services
from raksa.services.models import Registration
from raksa.services.models import Status as RegistrationStatus
from raksa.services.tests import builders
from raksa.testing import accounts as personas
from raksa.testing import writers
from raksa.testing.concurrency import beginning_a_write_on_another_connection, until, waiting_for_a_lock
from raksa.testing.mailbox import running
from raksa.testing.refusals import refusing_updates
from raksa.vault import actions as vault
from raksa.vault import bulk, keys
from raksa.vault.models import BlindIndex, DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE

DAY = datetime.timedelta(days=1)


def planned(code: str, now: datetime.datetime) -> int:
    (plan,) = engine.plan(now=now, only=[code])
    return plan.total


def ran(code: str, now: datetime.datetime) -> int:
    (outcome,) = run_retention(now=now, only=[code])
    return outcome.total


class EngineTestCase(TestCase):
    databases = "__all__"

    def assert_leaves_the_day_after(self, code: str, start: datetime.datetime, period: datetime.timedelta) -> None:
        """Nothing of the store leaves the day before its period ends; the day after, the plan's count leaves."""
        before, after = start + period - DAY, start + period + DAY
        self.assertEqual(planned(code, before), 0)
        self.assertEqual(ran(code, before), 0)
        expected = planned(code, after)
        self.assertGreater(expected, 0)
        self.assertEqual(ran(code, after), expected)
        self.assertEqual(planned(code, after), 0)


class RegistrationRetentionTests(EngineTestCase):
    def setUp(self) -> None:
        self.service = builders.certificate(builders.agency(), fields=("name", "phone"))
        self.service.retention_days = 30
        self.service.save()
        self.person = builders.citizen()
        self.registration = builders.registration(self.service, self.person, phone="081 234 5678")
        self.officer = builders.officer("officer.minburi", self.service.agency)
        services.change_status(
            registration=self.registration, staff=self.officer, status=RegistrationStatus.COMPLETED, reason=""
        )
        self.closed = timezone.now()
        assert self.person.subject_id is not None
        self.subject_id = self.person.subject_id

    def test_it_empties_values_the_day_after_the_services_period_and_destroys_the_key(self) -> None:
        self.assert_leaves_the_day_after("services.registration", self.closed, datetime.timedelta(days=30))
        erased = Registration.objects.get(pk=self.registration.pk)
        self.assertIsNone(erased.name)
        self.assertIsNone(erased.phone)
        self.assertIsNotNone(erased.erased_at)
        keys = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject_id, retention=SERVICE_RECORD.code)
        self.assertTrue(keys.exists())
        self.assertFalse(keys.filter(destroyed_at__isnull=True).exists())

    def test_it_keeps_the_key_while_another_registration_still_holds_values(self) -> None:
        builders.registration(builders.certificate(self.service.agency, slug="second", fields=("name",)), self.person)
        self.assertEqual(ran("services.registration", self.closed + datetime.timedelta(days=31)), 1)
        keys = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject_id, retention=SERVICE_RECORD.code)
        self.assertTrue(keys.filter(destroyed_at__isnull=True).exists())

    def test_it_ends_each_row_once_in_batches_in_closing_order_even_when_closing_times_tie(self) -> None:
        others = [builders.registration(self.service, self.person, phone="081 234 5678") for _ in range(4)]
        for registration in others:
            services.change_status(
                registration=registration, staff=self.officer, status=RegistrationStatus.COMPLETED, reason=""
            )
        # Three cases closed at the same instant: a batch boundary falls between them.
        tied = [self.registration.pk, others[0].pk, others[1].pk]
        Registration.objects.filter(pk__in=tied).update(closed_at=self.closed)
        after = self.closed + datetime.timedelta(days=31)
        self.assertEqual(planned("services.registration", after), 5)
        (outcome,) = run_retention(now=after, only=["services.registration"], batch_size=2)
        self.assertEqual((outcome.total, outcome.batches, outcome.keys_destroyed), (5, 3, 1))
        self.assertFalse(Registration.objects.filter(erased_at__isnull=True).exists())
        self.assertFalse(Registration.objects.exclude(phone=None).exists())
        ended = AuditEntry.objects.filter(action="retention.records_ended", object_type="services.registration")
        self.assertEqual(sorted(int(entry.object_id) for entry in ended), [1, 2, 2])

    def test_it_records_the_run_in_aggregate_never_a_person(self) -> None:
        ran("services.registration", self.closed + datetime.timedelta(days=31))
        entry = AuditEntry.objects.get(action="retention.records_ended", object_type="services.registration")
        self.assertEqual(entry.object_id, "1")
        self.assertEqual(entry.agency_id, self.service.agency_id)
        self.assertIsNone(entry.subject_id)
        self.assertEqual(entry.purpose, "retention")

    def key_store_state(self) -> tuple[bool, bool]:
        """Whether the person's registration key is live, and whether the registration's phone index is there."""
        keys = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject_id, retention=SERVICE_RECORD.code)
        index = BlindIndex.objects.using(KEYSTORE).filter(store="services.registration", object_id=self.registration.pk)
        return keys.filter(destroyed_at__isnull=True).exists(), index.exists()

    def test_it_destroys_no_key_when_the_rows_end_fails(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        with refusing_updates(Registration) as refusal, self.assertRaisesMessage(Exception, "refuses") as raised:
            ran("services.registration", after)
        self.assertEqual(type(raised.exception).__name__, refusal)
        self.assertEqual(self.key_store_state(), (True, True))
        self.assertIsNotNone(Registration.objects.get(pk=self.registration.pk).phone)
        self.assertFalse(KeyStoreWork.objects.exists())

    def test_it_finishes_the_key_stores_part_a_failed_run_left_at_the_next_run(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        with refusing_updates(DataKey) as refusal, self.assertRaisesMessage(Exception, "refuses") as raised:
            ran("services.registration", after)
        self.assertEqual(type(raised.exception).__name__, refusal)
        # The rows ended and their end is recorded; their indexes went (committed first), the key is
        # still to destroy, and said so.
        self.assertIsNone(Registration.objects.get(pk=self.registration.pk).phone)
        self.assertTrue(AuditEntry.objects.filter(action="retention.records_ended", object_id="1").exists())
        self.assertEqual(self.key_store_state(), (True, False))
        self.assertEqual(KeyStoreWork.objects.count(), 1)
        (outcome,) = run_retention(now=after, only=["services.registration"])
        self.assertEqual((outcome.total, outcome.keys_destroyed), (0, 1))
        self.assertEqual(self.key_store_state(), (False, False))
        self.assertFalse(KeyStoreWork.objects.exists())
        destroyed = AuditEntry.objects.get(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual(destroyed.object_id, "1")

    def test_it_finishes_what_a_run_left_even_when_the_next_runs_other_rules(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        with refusing_updates(DataKey), self.assertRaisesMessage(Exception, "refuses"):
            ran("services.registration", after)
        run_retention(now=after, only=["accounts.accounttoken"])
        self.assertEqual(self.key_store_state(), (False, False))
        self.assertFalse(KeyStoreWork.objects.exists())
        entry = AuditEntry.objects.get(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual(entry.object_id, "1")

    def test_a_work_another_run_finished_meanwhile_is_recorded_once(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        with refusing_updates(DataKey), self.assertRaisesMessage(Exception, "refuses"):
            ran("services.registration", after)
        read_by_a_second_run = KeyStoreWork.objects.get()
        (outcome,) = run_retention(now=after, only=["services.registration"])
        self.assertEqual(outcome.keys_destroyed, 1)
        self.assertEqual(actions._finish_left([read_by_a_second_run]), (0, 0))
        destroyed = AuditEntry.objects.filter(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual([entry.object_id for entry in destroyed], ["1"])

    def test_it_ends_nothing_while_another_run_is_going(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite the single writer serialises two runs' batches (no run lock)")
        after = self.closed + datetime.timedelta(days=31)
        other = connections.create_connection("default")
        self.addCleanup(other.close)
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [actions.RUN_LOCK])
            self.assertTrue(cursor.fetchone()[0])
        with self.assertRaises(actions.RetentionRunningError):
            run_retention(now=after, only=["services.registration"])
        self.assertIsNotNone(Registration.objects.get(pk=self.registration.pk).phone)
        with self.assertRaisesMessage(CommandError, "another retention run is going: this one ended nothing"):
            call_command("retention", "run", "--rule", "services.registration", stdout=io.StringIO())
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [actions.RUN_LOCK])
        self.assertEqual(ran("services.registration", after), 1)

    def test_it_holds_one_run_at_a_time_on_a_sqlite_file_too(self) -> None:
        # Two runs on one SQLite file (the daemon and a manual run): the second's start finished the
        # first's works while its group waited, and the group's keys went uncounted in the audit log.
        if connection.vendor != "sqlite":
            self.skipTest("PostgreSQL's run lock is the advisory lock (the test above)")
        directory = self.enterContext(tempfile.TemporaryDirectory())
        with patch.dict(connection.settings_dict, {"NAME": f"{directory}/raksa.sqlite3"}):
            with actions._one_run() as first, actions._one_run() as second:
                self.assertEqual((first, second), (True, False))
            with actions._one_run() as after_the_first_ended:
                self.assertTrue(after_the_first_ended)

    def test_a_crash_after_the_key_stores_commit_loses_no_count(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        with refusing_updates(DataKey), self.assertRaisesMessage(Exception, "refuses"):
            ran("services.registration", after)
        # As if the key store's part had then committed and the process died before the work's row went.
        work = KeyStoreWork.objects.get()
        vault.drop_indexes(model=Registration, object_ids=KeyStoreWork.unpack(work.object_ids))
        destroyed = vault.shred_unused_keys(retention=work.retention, scopes=work.scopes(), now=work.stamp).destroyed
        self.assertEqual((destroyed, self.key_store_state()), (1, (False, False)))
        (outcome,) = run_retention(now=after, only=["services.registration"])
        self.assertEqual(outcome.keys_destroyed, 1)
        self.assertFalse(KeyStoreWork.objects.exists())
        entry = AuditEntry.objects.get(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual(entry.object_id, "1")

    def test_a_crash_after_a_group_of_works_was_finished_in_the_key_store_loses_no_count(self) -> None:
        other = builders.citizen("other")
        registration = builders.registration(self.service, other, phone="089 765 4321")
        services.change_status(
            registration=registration, staff=self.officer, status=RegistrationStatus.COMPLETED, reason=""
        )
        after = timezone.now() + datetime.timedelta(days=31)
        with refusing_updates(DataKey), self.assertRaisesMessage(Exception, "refuses"):
            run_retention(now=after, only=["services.registration"], batch_size=1)
        # Two batches, two works; the key store's part took them together, then the process died before
        # their rows went: both people's keys carry the first work's stamp.
        works = list(KeyStoreWork.objects.order_by("pk"))
        self.assertEqual(len(works), 2)
        done = actions._key_store_part(works, recovering=False)
        self.assertEqual([each.destroyed for each in done], [2, 0])
        self.assertFalse(DataKey.objects.using(KEYSTORE).filter(destroyed_at__isnull=True).exists())
        (outcome,) = run_retention(now=after, only=["services.registration"])
        self.assertEqual((outcome.total, outcome.keys_destroyed), (0, 2))
        self.assertFalse(KeyStoreWork.objects.exists())
        self.assertFalse(BlindIndex.objects.using(KEYSTORE).filter(store="services.registration").exists())
        destroyed = AuditEntry.objects.filter(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual(sum(int(entry.object_id) for entry in destroyed), 2)

    def test_a_person_a_writer_keeps_holding_is_left_for_the_next_run_and_the_runs_go_on(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: a run waits for it")
        after = self.closed + datetime.timedelta(days=31)
        others = []
        for name in ("somsri", "somsak"):
            person = builders.citizen(name)
            registration = builders.registration(self.service, person, phone="081 234 5678")
            services.change_status(
                registration=registration, staff=self.officer, status=RegistrationStatus.COMPLETED, reason=""
            )
            others.append(builders.subject_of(person).id)
        live = DataKey.objects.using(KEYSTORE).filter(retention=SERVICE_RECORD.code, destroyed_at__isnull=True)
        # The last person's case closed later: it ends at the second run.
        Registration.objects.filter(subject_id=others[1]).update(closed_at=self.closed + 5 * DAY)
        with writers.holding(self.subject_id):
            (outcome,) = run_retention(now=after, only=["services.registration"])
            self.assertEqual((outcome.total, outcome.keys_destroyed, outcome.people_left), (2, 1, 1))
            # Its row ended and its index went; its key waits for the writer, the other person's did not.
            self.assertEqual(self.key_store_state(), (True, False))
            self.assertEqual(set(live.values_list("subject_id", flat=True)), {self.subject_id, others[1]})
            work = KeyStoreWork.objects.get()
            self.assertEqual(
                ([subject for subject, _c in work.scopes()], bytes(work.object_ids)), ([self.subject_id.hex], b"")
            )
            # The next run, the writer still there, goes on past it.
            (outcome,) = run_retention(now=after + 10 * DAY, only=["services.registration"])
            self.assertEqual((outcome.total, outcome.keys_destroyed, outcome.people_left), (1, 1, 1))
            self.assertEqual(list(live.values_list("subject_id", flat=True)), [self.subject_id])
        (outcome,) = run_retention(now=after + 10 * DAY, only=["services.registration"])
        self.assertEqual((outcome.total, outcome.keys_destroyed, outcome.people_left), (0, 1, 0))
        self.assertEqual(self.key_store_state(), (False, False))
        self.assertFalse(KeyStoreWork.objects.exists())
        entries = AuditEntry.objects.filter(object_type="services.registration", subject_id__isnull=True)
        left = entries.filter(action="retention.keys_left").values_list("object_id", flat=True)
        self.assertEqual(list(left), ["1", "1"])
        destroyed = entries.filter(action="retention.keys_destroyed").values_list("object_id", flat=True)
        self.assertEqual(sum(map(int, destroyed)), 3)

    def test_a_person_left_by_several_batches_is_left_once(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: a run waits for it")
        # Their other registration is another agency's (another key), ended by the next batch.
        elsewhere = builders.certificate(
            builders.agency("chatuchak", controller_slug="mof"), slug="elsewhere", fields=("name", "phone")
        )
        elsewhere.retention_days = 30
        elsewhere.save()
        second = builders.registration(elsewhere, self.person, phone="081 234 5678")
        services.change_status(
            registration=second,
            staff=builders.officer("officer.chatuchak", elsewhere.agency),
            status=RegistrationStatus.COMPLETED,
            reason="",
        )
        after = self.closed + datetime.timedelta(days=31)
        with writers.holding(self.subject_id):
            (outcome,) = run_retention(now=after, only=["services.registration"], batch_size=1)
            self.assertEqual((outcome.total, outcome.batches, outcome.people_left), (2, 2, 1))
            # One work names them once, so the next run waits for them once.
            work = KeyStoreWork.objects.get()
            self.assertEqual([subject for subject, _c in work.scopes()], [self.subject_id.hex] * 2)
            (outcome,) = run_retention(now=after, only=["services.registration"])
            self.assertEqual(outcome.people_left, 1)
            self.assertEqual(KeyStoreWork.objects.count(), 1)
        left = AuditEntry.objects.filter(action="retention.keys_left", object_type="services.registration")
        self.assertEqual(list(left.values_list("object_id", flat=True)), ["1", "1"])

    def dpo(self) -> StaffMembership:
        user = personas.staff("dpo.minburi", agency=self.service.agency, role=StaffRole.DPO)
        return StaffMembership.objects.get(user=user)

    def test_a_hold_on_the_person_keeps_the_values_and_its_end_releases_them(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        dpo = self.dpo()
        hold = place_hold(
            staff=dpo, reason="คดีแพ่ง 123/2569", ends_on=after.date() + DAY * 30, subject_id=self.person.subject_id
        )
        (plan,) = engine.plan(now=after, only=["services.registration"])
        self.assertEqual(plan.total, 0)
        self.assertEqual([(held.hold, held.rows) for held in plan.held], [(hold, 1)])
        self.assertEqual(ran("services.registration", after), 0)
        self.assertIsNotNone(Registration.objects.get(pk=self.registration.pk).phone)
        end_hold(staff=dpo, hold=hold)
        self.assertEqual(ran("services.registration", after), 1)
        self.assertTrue(AuditEntry.objects.filter(action="retention.hold_ended", object_id=str(hold.pk)).exists())

    def test_a_hold_releases_by_itself_after_its_end_date(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        place_hold(
            staff=self.dpo(), reason="การตรวจสอบของ สตง.", ends_on=timezone.localdate(after), service_id=self.service.pk
        )
        self.assertEqual(ran("services.registration", after), 0)
        self.assertEqual(ran("services.registration", after + DAY), 1)

    def test_holds_on_a_case_and_on_a_time_range_keep_only_what_they_cover(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        dpo = self.dpo()
        place_hold(staff=dpo, reason="เรื่องร้องเรียน", ends_on=after.date() + DAY, case_id=uuid.uuid4())
        place_hold(
            staff=dpo,
            reason="ช่วงเวลาที่ถูกตรวจสอบ",
            ends_on=after.date() + DAY,
            covers_from=self.closed - datetime.timedelta(days=400),
            covers_until=self.closed - datetime.timedelta(days=300),
        )
        self.assertEqual(ran("services.registration", after), 1)

    def test_a_hold_on_the_case_keeps_it(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        place_hold(staff=self.dpo(), reason="เรื่องร้องเรียน", ends_on=after.date() + DAY, case_id=self.registration.pk)
        self.assertEqual(ran("services.registration", after), 0)

    def test_a_hold_keeps_only_the_placing_agencys_records(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        other = builders.agency("lat-krabang", controller_slug="other-city")
        dpo = StaffMembership.objects.get(user=personas.staff("dpo.latkrabang", agency=other, role=StaffRole.DPO))
        place_hold(staff=dpo, reason="คดีแพ่ง 456/2569", ends_on=after.date() + DAY, subject_id=self.subject_id)
        (plan,) = engine.plan(now=after, only=["services.registration"])
        self.assertEqual((plan.total, plan.held), (1, []))
        self.assertEqual(ran("services.registration", after), 1)

    def test_a_platform_dpos_hold_reaches_every_agency_and_the_platforms_stores(self) -> None:
        after = self.closed + datetime.timedelta(days=31)
        platform = Agency.objects.create(
            controller=personas.platform_operator(), slug="platform", name_th="แพลตฟอร์ม", name_en="Platform"
        )
        dpo = StaffMembership.objects.get(user=personas.staff("dpo.platform", agency=platform, role=StaffRole.DPO))
        hold = place_hold(staff=dpo, reason="คำสั่งศาล 789/2569", ends_on=after.date() + DAY, subject_id=self.subject_id)
        self.assertEqual(ran("services.registration", after), 0)
        self.assertIsNotNone(legal_holds.covering(hold, rule("rights.rightsrequest")))
        own = place_hold(
            staff=self.dpo(), reason="คดีแพ่ง 123/2569", ends_on=after.date() + DAY, subject_id=self.subject_id
        )
        self.assertIsNone(legal_holds.covering(own, rule("rights.rightsrequest")))


class KeyStoreBesideTheRowsTests(TransactionTestCase):
    """Outside a transaction the key store's part of each batch runs after the batch has committed: on
    PostgreSQL (and SQLite's files) in a thread of its own, beside the next batch."""

    databases = "__all__"

    def test_it_ends_the_rows_and_then_their_keys_and_indexes_after_each_batch_commits(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name", "phone"))
        officer = builders.officer("officer.minburi", service.agency)
        people = [builders.citizen(f"person{number}") for number in range(3)]
        for person in people:
            registration = builders.registration(service, person, phone="081 234 5678")
            services.change_status(
                registration=registration, staff=officer, status=RegistrationStatus.COMPLETED, reason=""
            )
        after = timezone.now() + datetime.timedelta(days=SERVICE_RECORD.period_days or 0, hours=1)
        # Its people's keys destroyed a person at a time (as a batch of 5,000 people is, 2,000 at a time).
        with patch.object(keys, "LOCKS_AT_ONCE", 1):
            (outcome,) = run_retention(now=after, only=["services.registration"], batch_size=2)
        self.assertEqual((outcome.total, outcome.batches, outcome.keys_destroyed), (3, 2, 3))
        self.assertFalse(Registration.objects.exclude(phone=None).exists())
        self.assertFalse(BlindIndex.objects.using(KEYSTORE).filter(store="services.registration").exists())
        live = DataKey.objects.using(KEYSTORE).filter(retention=SERVICE_RECORD.code, destroyed_at__isnull=True)
        self.assertFalse(live.exists())
        self.assertFalse(KeyStoreWork.objects.exists())
        destroyed = AuditEntry.objects.filter(action="retention.keys_destroyed", object_type="services.registration")
        self.assertEqual(sum(int(entry.object_id) for entry in destroyed), 3)

    def test_a_person_a_writer_holds_is_left_once_while_the_others_keys_go_beside(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: a run waits for it")
        service = builders.certificate(builders.agency(), fields=("name", "phone"))
        officer = builders.officer("officer.minburi", service.agency)
        people = [builders.citizen(f"person{number}") for number in range(3)]
        # The held person's registrations with two controllers (two keys) end in two batches; each batch
        # also ends another person's.
        elsewhere = builders.certificate(
            builders.agency("chatuchak", controller_slug="mof"), slug="elsewhere", fields=("name", "phone")
        )
        for person, where in ((people[0], service), (people[1], service), (people[0], elsewhere), (people[2], service)):
            registration = builders.registration(where, person, phone="081 234 5678")
            services.change_status(
                registration=registration,
                staff=officer if where == service else builders.officer("officer.chatuchak", where.agency),
                status=RegistrationStatus.COMPLETED,
                reason="",
            )
        held = builders.subject_of(people[0]).id
        after = timezone.now() + datetime.timedelta(days=SERVICE_RECORD.period_days or 0, hours=1)
        live = DataKey.objects.using(KEYSTORE).filter(retention=SERVICE_RECORD.code, destroyed_at__isnull=True)
        self.assertTrue(actions._beside_possible("default"))  # the key store's part runs in its thread
        with writers.holding(held):
            (outcome,) = run_retention(now=after, only=["services.registration"], batch_size=2)
        self.assertEqual((outcome.total, outcome.batches, outcome.keys_destroyed, outcome.people_left), (4, 2, 2, 1))
        self.assertFalse(Registration.objects.exclude(phone=None).exists())
        self.assertFalse(BlindIndex.objects.using(KEYSTORE).filter(store="services.registration").exists())
        self.assertEqual(list(live.values_list("subject_id", flat=True)), [held, held])
        work = KeyStoreWork.objects.get()
        self.assertEqual(([subject for subject, _c in work.scopes()], bytes(work.object_ids)), ([held.hex] * 2, b""))
        # The writer gone, the next run finishes the work.
        (outcome,) = run_retention(now=after, only=["services.registration"])
        self.assertEqual((outcome.keys_destroyed, outcome.people_left), (2, 0))
        self.assertFalse(live.exists())
        self.assertFalse(KeyStoreWork.objects.exists())


NEW_PHONE = "089 765 4321"


class _Writer(threading.Thread):
    """Runs a write in a thread of its own (its own database connections), keeping what it gave or raised."""

    def __init__(self, write: Callable[[], Registration]) -> None:
        super().__init__(name="writer")
        self.write = write
        self.written: Registration | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.written = self.write()
        except BaseException as error:  # re-raised by the test's thread
            self.error = error
        finally:
            connections.close_all()


class KeyDestructionRaceTests(TransactionTestCase):
    """A person registers again while the purge destroys the key of their last case: the new values are
    sealed under a key that stays, never under the one destroyed (the writer holds its subject until
    its commit; the destroyer takes it, checks the main database again, then destroys)."""

    databases = "__all__"
    rule = "services.registration"

    def setUp(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name", "phone"))
        service.retention_days = 30
        service.save()
        self.second = builders.certificate(service.agency, slug="second", fields=("name", "phone"))
        self.person = builders.citizen()
        officer = builders.officer("officer.minburi", service.agency)
        self.first = builders.registration(service, self.person, phone="081 234 5678")
        services.change_status(registration=self.first, staff=officer, status=RegistrationStatus.COMPLETED, reason="")
        self.after = timezone.now() + datetime.timedelta(days=31)

    def register_again(self) -> Registration:
        return builders.registration(self.second, self.person, phone=NEW_PHONE)

    def assert_opens(self, registration: Registration | None) -> None:
        assert registration is not None
        row = Registration.objects.get(pk=registration.pk)
        self.assertEqual(Opener.for_subject(row.subject_id).open_field(row, "phone"), NEW_PHONE)
        (outcome,) = run_retention(now=self.after, only=[self.rule])
        self.assertEqual(outcome.total, 0)
        self.assertEqual(Opener.for_subject(row.subject_id).open_field(row, "phone"), NEW_PHONE)

    def test_a_registration_committed_between_the_check_and_the_destruction_keeps_its_values(self) -> None:
        writer = _Writer(self.register_again)
        destroy = bulk.destroy_keys

        def between_the_check_and_the_destruction(**arguments: Any) -> list[bytes]:
            if connection.vendor == "postgresql":
                writer.start()
                # Either it commits (the race) or it waits for the destroyer's hold on the person.
                until(lambda: not writer.is_alive() or waiting_for_a_lock())
            else:
                # One writer per SQLite database, and the destroyer holds the main one: a registration
                # cannot begin (a file waits for it; the suite's shared-cache database refuses at once).
                self.assertIn("locked", beginning_a_write_on_another_connection())
            return destroy(**arguments)

        with patch.object(bulk, "destroy_keys", between_the_check_and_the_destruction):
            (outcome,) = run_retention(now=self.after, only=[self.rule])
        self.assertEqual((outcome.total, outcome.keys_destroyed), (1, 1))
        if connection.vendor == "postgresql":
            writer.join()
            if writer.error is not None:
                raise writer.error
        else:
            writer.written = self.register_again()
        self.assert_opens(writer.written)

    def test_a_registration_sealed_before_the_check_and_committed_after_it_keeps_its_values(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a registration sealed in its transaction holds the only writer's lock")
        sealed, commit = threading.Event(), threading.Event()
        record = services.record

        def pausing_before_the_commit(**arguments: Any) -> None:
            if threading.current_thread().name == "writer" and arguments["action"] == "services.registered":
                sealed.set()
                commit.wait(30)
            record(**arguments)

        pause = getattr(keys, "wait_for_writers", time.sleep)

        def letting_the_writer_commit(seconds: float) -> None:
            commit.set()
            pause(seconds)

        writer = _Writer(self.register_again)
        with (
            patch.object(services, "record", pausing_before_the_commit),
            patch.object(keys, "wait_for_writers", letting_the_writer_commit, create=True),
        ):
            writer.start()
            self.assertTrue(sealed.wait(30))
            (outcome,) = run_retention(now=self.after, only=[self.rule])
            commit.set()
            writer.join()
        if writer.error is not None:
            raise writer.error
        self.assertEqual((outcome.total, outcome.keys_destroyed), (1, 0))
        self.assert_opens(writer.written)

    def test_a_request_that_read_the_values_before_the_key_went_seals_the_next_ones_under_a_live_key(self) -> None:
        with keys.session():
            opened = Opener.for_subject(self.first.subject_id).open_field(self.first, "phone")
            self.assertEqual(opened, "081 234 5678")
            # Another process's run: not this request's session.
            (outcome,) = contextvars.Context().run(run_retention, now=self.after, only=[self.rule])
            self.assertEqual(outcome.keys_destroyed, 1)
            again = self.register_again()
        self.assert_opens(again)


class AccountRetentionTests(EngineTestCase):
    def setUp(self) -> None:
        personas.platform_operator()

    def test_it_deletes_links_the_day_after_they_expire(self) -> None:
        user = personas.citizen()
        account_tokens.issue(user=user, purpose=TokenPurpose.CONFIRM_EMAIL)
        start = timezone.now()
        self.assert_leaves_the_day_after(
            "accounts.accounttoken", start, account_tokens.lifetime(TokenPurpose.CONFIRM_EMAIL)
        )
        self.assertFalse(AccountToken.objects.exists())

    def test_it_forgets_failure_counts_a_quiet_day_after_the_last_failure(self) -> None:
        from raksa.accounts import throttle
        from raksa.accounts.models import LoginThrottle

        failed = timezone.now()
        LoginThrottle.objects.create(account_key="a" * 64, address_key="b" * 64, failures=2, last_failure_at=failed)
        self.assert_leaves_the_day_after("accounts.loginthrottle", failed, throttle.FORGET_AFTER)

    def test_it_deletes_sessions_past_their_expiry(self) -> None:
        user = personas.citizen()
        self.client.force_login(user)
        session = Session.objects.get(user=user)
        self.assert_leaves_the_day_after("accounts.session", session.expire_date, datetime.timedelta(0))

    @override_settings(RAKSA_APP_TOKEN_HOURS=24, RAKSA_APP_TOKEN_IDLE_HOURS=48)
    def test_it_deletes_the_applications_log_ins_the_day_after_they_expire(self) -> None:
        from raksa.accounts import apptokens

        _raw, expires_at = apptokens.issue(user=personas.citizen())
        self.assert_leaves_the_day_after("accounts.apptoken", expires_at, datetime.timedelta(0))

    @override_settings(RAKSA_APP_TOKEN_HOURS=720, RAKSA_APP_TOKEN_IDLE_HOURS=168)
    def test_it_deletes_the_applications_log_ins_left_unused_for_the_idle_timeout(self) -> None:
        from raksa.accounts import apptokens

        apptokens.issue(user=personas.citizen())
        last_used = AppToken.objects.get().last_used_at
        self.assert_leaves_the_day_after("accounts.apptoken", last_used, datetime.timedelta(hours=168))

    @override_settings(RAKSA_UNCONFIRMED_ACCOUNT_DAYS=30)
    def test_it_closes_accounts_never_confirmed(self) -> None:
        user = personas.citizen("unconfirmed")
        addresses.store(user, "unconfirmed@example.org")
        start = timezone.now()
        self.assert_leaves_the_day_after("accounts.unconfirmed", start, datetime.timedelta(days=30))
        closed = User.objects.get(pk=user.pk)
        self.assertIsNone(closed.subject_id)
        self.assertFalse(closed.is_active)
        self.assertFalse(closed.has_usable_password())
        self.assertFalse(AccountEmail.objects.filter(user=user).exists())

    @override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=365, RAKSA_INACTIVE_WARNING_DAYS=28)
    def test_it_warns_over_smtp_weeks_before_closing_an_unused_account(self) -> None:
        mailbox = running()
        user = personas.citizen("sleeper")
        addresses.store(user, "sleeper@example.org")
        User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
        last_use = User.objects.get(pk=user.pk).date_joined
        warn_on = last_use + datetime.timedelta(days=365 - 28)

        self.assertEqual(run_retention(now=warn_on - DAY, only=["accounts.inactive"])[0].warned, 0)
        mailbox.clear()
        (outcome,) = run_retention(now=warn_on + DAY, only=["accounts.inactive"])
        self.assertEqual((outcome.warned, outcome.total), (1, 0))
        (mail,) = mailbox.received("sleeper@example.org")
        self.assertIn("sleeper", mail.get_content())
        # Warned once, not at every run.
        self.assertEqual(run_retention(now=warn_on + 2 * DAY, only=["accounts.inactive"])[0].warned, 0)
        closes = last_use + datetime.timedelta(days=365)
        self.assertEqual(ran("accounts.inactive", closes - DAY), 0)
        self.assertEqual(ran("accounts.inactive", closes + DAY), 1)
        self.assertIsNone(User.objects.get(pk=user.pk).subject_id)

    @override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=365, RAKSA_INACTIVE_WARNING_DAYS=28)
    def test_a_warning_that_cannot_be_sent_closes_nothing_and_stops_nothing(self) -> None:
        user = personas.citizen("unreachable")
        addresses.store(user, "unreachable@example.org")
        User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
        later = User.objects.get(pk=user.pk).date_joined + datetime.timedelta(days=400)
        nowhere = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
            }
        }
        with override_settings(MAILERS=nowhere):
            (outcome,) = run_retention(now=later, only=["accounts.inactive"])
        self.assertEqual((outcome.warned, outcome.total), (0, 0))
        self.assertEqual(ran("accounts.inactive", later + datetime.timedelta(days=60)), 0)
        self.assertIsNotNone(User.objects.get(pk=user.pk).subject_id)

    @override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=365, RAKSA_INACTIVE_WARNING_DAYS=28)
    def test_a_late_warning_still_gives_its_full_weeks(self) -> None:
        user = personas.citizen("late")
        addresses.store(user, "late@example.org")
        User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
        warned_at = User.objects.get(pk=user.pk).date_joined + datetime.timedelta(days=400)
        (outcome,) = run_retention(now=warned_at, only=["accounts.inactive"])
        self.assertEqual((outcome.warned, outcome.total), (1, 0))
        self.assertEqual(ran("accounts.inactive", warned_at + datetime.timedelta(days=27)), 0)
        self.assertEqual(ran("accounts.inactive", warned_at + datetime.timedelta(days=28)), 1)

    @override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=365, RAKSA_INACTIVE_WARNING_DAYS=28)
    def test_logging_in_after_the_warning_keeps_the_account(self) -> None:
        user = personas.citizen("returns")
        addresses.store(user, "returns@example.org")
        User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
        last_use = User.objects.get(pk=user.pk).date_joined
        warned_at = last_use + datetime.timedelta(days=340)
        run_retention(now=warned_at, only=["accounts.inactive"])
        User.objects.filter(pk=user.pk).update(last_login=warned_at + DAY)
        self.assertEqual(ran("accounts.inactive", warned_at + datetime.timedelta(days=60)), 0)
        self.assertIsNotNone(User.objects.get(pk=user.pk).subject_id)


class OtherStoresRetentionTests(EngineTestCase):
    def setUp(self) -> None:
        personas.platform_operator()
        self.agency = demo.load_organisations()[1]
        self.person = personas.citizen()
        assert self.person.subject is not None
        self.subject = self.person.subject

    def test_withdrawn_consent_is_kept_as_evidence_for_its_period(self) -> None:
        consent.grant_consent(
            subject=self.subject, agency=self.agency, purpose="news_and_pr", channel="web", minor=False, email="a@b.org"
        )
        consent.withdraw_consent(subject=self.subject, agency=self.agency, purpose="news_and_pr", channel="web")
        start = timezone.now()
        self.assert_leaves_the_day_after(
            "consent.consent", start, datetime.timedelta(days=CONSENT_EVIDENCE.period_days or 0)
        )
        self.assertFalse(Consent.objects.filter(subject=self.subject).exists())
        self.assertFalse(ConsentEvent.objects.filter(consent__subject=self.subject).exists())

    def test_live_consent_never_leaves(self) -> None:
        consent.grant_consent(
            subject=self.subject, agency=self.agency, purpose="news_and_pr", channel="web", minor=False, email="a@b.org"
        )
        self.assertEqual(ran("consent.consent", timezone.now() + datetime.timedelta(days=20 * 365)), 0)

    def test_answered_questions_to_the_dpo_leave_after_their_period(self) -> None:
        inquiry = consent.submit_inquiry(
            agency=self.agency,
            kind="question",
            name="มาลี ใจดี",
            email="malee@example.org",
            message="ขอทราบข้อมูล",
            subject=self.subject,
            language="th",
        )
        self.assertEqual(ran("consent.inquiry", timezone.now() + datetime.timedelta(days=3650)), 0)  # unanswered
        dpo = personas.staff("dpo.minburi", agency=self.agency, role=StaffRole.DPO)
        consent.answer_inquiry(inquiry=inquiry, answer="ตอบแล้ว", actor=dpo)
        start = timezone.now()
        self.assert_leaves_the_day_after("consent.inquiry", start, datetime.timedelta(days=INQUIRY.period_days or 0))
        self.assertFalse(Inquiry.objects.filter(pk=inquiry.pk).exists())

    def test_request_case_files_leave_after_their_period(self) -> None:
        request = rights.file_request(subject=self.subject, type="access", details="ขอสำเนาข้อมูล")
        rights.set_status(request=request, status=Status.COMPLETED, actor=None)
        start = timezone.now()
        period = rule("rights.rightsrequest").checked_period().length
        self.assert_leaves_the_day_after("rights.rightsrequest", start, period)
        self.assertFalse(RightsRequest.objects.filter(pk=request.pk).exists())

    def test_disclosure_records_leave_after_their_case_file_period_and_the_key_is_destroyed(self) -> None:
        from raksa.disclosures.models import Basis, Disclosure
        from raksa.disclosures.tests.fixtures import ORDER, thai_post
        from raksa.vault.actions import save_sealed

        disclosure = Disclosure(
            subject=self.subject,
            controller_id=self.agency.controller_id,
            agency=self.agency,
            recipient=thai_post(self.agency),
            purpose="contact",
            basis=Basis.LEGAL,
            fields=["consent.inquiry.name"],
            legal_reference="คำสั่งศาลแพ่ง ที่ 123/2569",
            issuing_authority="ศาลแพ่ง",
            order_date=datetime.date(2026, 11, 1),
            document=base64.b64encode(ORDER).decode(),
        )
        save_sealed(disclosure)
        self.assert_leaves_the_day_after(
            "disclosures.disclosure", disclosure.disclosed_at, datetime.timedelta(days=CASE_FILE.period_days or 0)
        )
        self.assertFalse(Disclosure.objects.filter(pk=disclosure.pk).exists())
        keys = DataKey.objects.using(KEYSTORE).filter(subject_id=self.subject.pk, retention=CASE_FILE.code)
        self.assertTrue(keys.exists())
        self.assertFalse(keys.filter(destroyed_at__isnull=True).exists())

    def test_export_files_and_links_end_hours_after_they_are_ready_and_their_records_later(self) -> None:
        from raksa.rights.exports import FINISHED_ROW_LIFETIME, LINK_LIFETIME, produce, request_export

        export = request_export(subject=self.subject, format="json", language="th", actor=self.person)
        produce(export=export)
        ready = Export.objects.get(pk=export.pk)
        self.assertEqual(ready.status, ExportStatus.READY)
        assert ready.expires_at is not None
        self.assertLessEqual(ready.expires_at - LINK_LIFETIME, timezone.now())
        hour = datetime.timedelta(hours=1)
        self.assertEqual(ran("rights.export", ready.expires_at - hour), 0)
        self.assertEqual(planned("rights.export", ready.expires_at + hour), 1)
        self.assertEqual(ran("rights.export", ready.expires_at + hour), 1)
        emptied = Export.objects.get(pk=export.pk)
        self.assertEqual((emptied.status, emptied.content, emptied.token_digest), (ExportStatus.EXPIRED, None, ""))
        self.assert_leaves_the_day_after("rights.export_record", emptied.created_at, FINISHED_ROW_LIFETIME)
        self.assertFalse(Export.objects.filter(pk=export.pk).exists())


class PlanTests(EngineTestCase):
    def test_the_plans_counts_equal_what_the_run_removes_across_every_store(self) -> None:
        personas.platform_operator()
        service = builders.certificate(builders.agency(), fields=("name",))
        for number in range(3):
            person = builders.citizen(f"person{number}")
            registration = builders.registration(service, person)
            officer = builders.officer(f"officer{number}", service.agency)
            services.change_status(
                registration=registration, staff=officer, status=RegistrationStatus.REJECTED, reason="ไม่ครบ"
            )
            account_tokens.issue(user=person, purpose=TokenPurpose.RESET_PASSWORD)
        later = timezone.now() + datetime.timedelta(days=4000)
        plans = {
            plan.rule.code: plan.total
            for plan in engine.plan(now=later)
            if not plan.rule.owner_only and not plan.rule.run_by
        }
        outcomes = {outcome.rule.code: outcome.total for outcome in run_retention(now=later)}
        self.assertEqual(plans, outcomes)
        self.assertEqual(plans["services.registration"], 3)
        self.assertEqual(plans["accounts.accounttoken"], 3)


class RefusalTests(TestCase):
    def test_it_refuses_a_zero_or_negative_period(self) -> None:
        for days in (0, -5):
            with self.assertRaisesRegex(RuleRefusedError, "must be longer than zero"):
                check_period(datetime.timedelta(days=days), retention=None, where="test")

    def test_it_refuses_a_period_under_the_legal_minimum_in_thai_and_english(self) -> None:
        with self.assertRaises(RuleRefusedError) as refused:
            check_period(datetime.timedelta(days=89), retention=ACCESS_LOG, where="accesslog")
        self.assertIn("สั้นกว่าที่กฎหมายกำหนด", str(refused.exception))
        self.assertIn("shorter than the legal minimum of 90 days", str(refused.exception))
        self.assertEqual(check_period(datetime.timedelta(days=90), retention=ACCESS_LOG, where="x").days, 90)

    def test_a_rule_with_a_bad_period_is_refused_by_the_system_check_and_the_run(self) -> None:
        from raksa.retention.checks import check_rule_periods

        register(
            Rule(
                code="test.too_short",
                model="disclosures.Disclosure",
                label_th="ทดสอบ",
                label_en="test",
                period=lambda: Period(datetime.timedelta(days=30), "", "", "test"),
                due=lambda now: Registration.objects.none(),
                retention=CASE_FILE,
            )
        )
        try:
            self.assertEqual([error.id for error in check_rule_periods()], ["retention.E001"])
            with self.assertRaises(RuleRefusedError):
                run_retention(only=["test.too_short"])
        finally:
            unregister("test.too_short")

    def test_a_service_that_keeps_nothing_is_refused(self) -> None:
        from django.core.exceptions import ValidationError

        service = builders.certificate(builders.agency(), fields=("name",))
        service.retention_days = 0
        with translation.override("en"), self.assertRaisesRegex(ValidationError, "at least one day"):
            service.full_clean()
        with translation.override("th"), self.assertRaisesRegex(ValidationError, "อย่างน้อยหนึ่งวัน"):
            service.full_clean()
