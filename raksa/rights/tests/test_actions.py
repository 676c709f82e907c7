"""The steps of a request as the person lives them: mail at each step, corrections, consent withdrawal,
closing the account (R1-R3, PDPA s19, s30, s33, s36)."""

import socket
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from email.message import EmailMessage
from unittest.mock import patch

from django.db import OperationalError, connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from raksa.accounts.addresses import find_user
from raksa.accounts.addresses import store as store_email
from raksa.accounts.models import Session, User
from raksa.audit.models import AuditEntry
from raksa.consent.actions import grant_consent
from raksa.consent.models import Channel, Consent, ConsentEvent
from raksa.organisations.models import Agency, StaffRole
from raksa.retention import actions as retention_actions
from raksa.retention.actions import run_retention
from raksa.retention.models import KeyStoreWork
from raksa.rights import actions, notices
from raksa.rights.models import ErasureNotice, IdentityMethod, RequestType, RightsRequest, Status
from raksa.services.tests import builders
from raksa.services.tests.builders import subject_of
from raksa.testing.accounts import IMMEDIATE_TASKS, citizen, platform_operator, staff
from raksa.testing.mailbox import links, running
from raksa.testing.refusals import refusing_updates
from raksa.testing.writers import holding
from raksa.vault import actions as vault_actions
from raksa.vault.models import DataKey
from raksa.vault.routers import KEYSTORE

EMAIL = "wanna.request@example.org"
WRITTEN = "โปรดแก้ไขชื่อสกุลของฉัน canary-written-71c3"
ORIGIN = "http://testserver"


class _UndoneError(Exception):
    pass


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _person(username: str = "wanna", email: str = EMAIL) -> User:
    platform_operator()
    user = citizen(username)
    store_email(user, email)
    return user


def _ministry_officer(username: str, role: str = StaffRole.OFFICER) -> User:
    controller = platform_operator()
    office, _created = Agency.objects.get_or_create(
        slug="most-ops", defaults={"controller": controller, "name_th": "สำนักงานปลัด", "name_en": "Office"}
    )
    return staff(username, agency=office, role=role)


@override_settings(TASKS=IMMEDIATE_TASKS)
class MailTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.mailbox = running()
        self.mailbox.clear()

    def test_it_writes_to_the_person_at_each_step_without_what_they_wrote_r2(self) -> None:
        user = _person()
        dpo = _ministry_officer("dpo.most", StaffRole.DPO)
        officer = _ministry_officer("officer.most")
        with self.captureOnCommitCallbacks(execute=True):
            case = actions.file_request(
                subject=subject_of(user), type=RequestType.ACCESS, details=WRITTEN, actor=user, origin=ORIGIN
            )
        with self.captureOnCommitCallbacks(execute=True):
            actions.assign_request(request=case, officer=officer, actor=dpo)
        due = case.due_date
        with self.captureOnCommitCallbacks(execute=True):
            actions.extend_due_date(request=case, days=10, reason="complex_request", actor=officer)
        with self.captureOnCommitCallbacks(execute=True):
            actions.set_status(
                request=case, status=Status.REFUSED, actor=officer, refusal_reason="pdpa_s30_harms_others"
            )
        received = self.mailbox.received(to=EMAIL)
        self.assertEqual(len(received), 4)
        bodies = [text(message) for message in received]
        link = ORIGIN + reverse("rights:request", args=[case.id])
        for message, body in zip(received, bodies, strict=True):
            self.assertEqual(links(message), [link])
            self.assertNotIn("canary-written", body + str(message["Subject"]))
            self.assertNotIn(user.username, body)
        self.assertIn("ได้รับคำขอ", bodies[0])
        self.assertIn("เจ้าหน้าที่", bodies[1])
        self.assertIn(str((due + timedelta(days=10)).year + 543), bodies[2])  # the new date, in the Thai calendar
        self.assertIn("ซับซ้อน", bodies[2])
        self.assertIn("มาตรา 30", bodies[3])  # the legal reason of the refusal

    def test_it_writes_in_the_language_the_person_used(self) -> None:
        user = _person()
        with self.captureOnCommitCallbacks(execute=True):
            actions.file_request(subject=subject_of(user), type=RequestType.ERASURE, language="en", origin=ORIGIN)
        (message,) = self.mailbox.received(to=EMAIL)
        self.assertIn("We received your request (erasure)", text(message))

    def test_it_writes_to_a_walk_in_person_at_the_address_they_gave_without_a_link(self) -> None:
        officer = _ministry_officer("officer.most")
        with self.captureOnCommitCallbacks(execute=True):
            case = actions.file_walk_in_request(
                type=RequestType.ACCESS,
                details=WRITTEN,
                identity_method=IdentityMethod.ID_CARD,
                contact_email="walkin@example.org",
                actor=officer,
            )
        (message,) = self.mailbox.received(to="walkin@example.org")
        self.assertEqual(links(message), [])  # a person without an account has no case page to open
        self.assertEqual((case.identity_method, case.identity_verified_by), ("id_card", officer))
        self.assertEqual(case.assigned_to, officer)


class StepTests(TestCase):
    databases = "__all__"

    def test_it_applies_a_rectification_through_the_vault_and_the_audit_only_after_identity_r3(self) -> None:
        user = _person()
        officer = _ministry_officer("officer.most")
        walk_in = actions.file_request(subject=subject_of(user), type=RequestType.RECTIFICATION, details=WRITTEN)
        (email_row,) = [target for target in actions.correctable_fields(subject_of(user).id) if target[2] == "email"]
        with self.assertRaises(actions.CaseStepError):  # nobody has checked who asked
            actions.apply_rectification(
                request=walk_in,
                store=email_row[0],
                row_id=email_row[1],
                field="email",
                value="new.wanna@example.org",
                actor=officer,
            )
        actions.verify_identity(request=walk_in, method=IdentityMethod.ID_CARD, actor=officer)
        actions.apply_rectification(
            request=walk_in,
            store=email_row[0],
            row_id=email_row[1],
            field="email",
            value="new.wanna@example.org",
            actor=officer,
        )
        self.assertEqual(find_user("new.wanna@example.org"), user)  # sealed, and its blind index renewed
        self.assertIsNone(find_user(EMAIL))
        entry = AuditEntry.objects.get(action="rights.rectify")
        self.assertEqual((entry.field_names, entry.actor_id), (["email"], officer.pk))
        self.assertEqual([e.step for e in walk_in.events.all()][-2:], ["identity_verified", "rectified"])

    def test_it_refuses_a_correction_of_another_persons_row(self) -> None:
        user = _person()
        other = _person("other", "other@example.org")
        case = actions.file_request(
            subject=subject_of(user), type=RequestType.RECTIFICATION, identity_method=IdentityMethod.REAUTHENTICATION
        )
        (theirs,) = [t for t in actions.correctable_fields(subject_of(other).id) if t[2] == "email"]
        with self.assertRaises(actions.CaseStepError):
            actions.apply_rectification(
                request=case, store=theirs[0], row_id=theirs[1], field="email", value="x@example.org", actor=user
            )
        self.assertEqual(find_user("other@example.org"), other)

    def test_it_lets_the_person_correct_contact_details_but_not_their_name_themselves_r3(self) -> None:
        office = builders.agency()
        user = _person()
        registration = builders.registration(
            builders.certificate(office), user, phone="0812345678", address="1 ถนนสีหบุรานุกิจ", national_id="3100600445635"
        )
        store = "services.Registration"
        allowed = {field for _s, _r, field in actions.self_correctable_fields(subject_of(user).id)}
        self.assertEqual(allowed, {"phone", "address"})
        actions.correct_own_data(
            subject=subject_of(user), changes=[(store, str(registration.pk), "phone", "0899999999")], actor=user
        )
        with self.assertRaises(actions.CaseStepError):
            actions.correct_own_data(
                subject=subject_of(user), changes=[(store, str(registration.pk), "name", "ชื่ออื่น")], actor=user
            )
        entry = AuditEntry.objects.get(action="rights.rectify")
        self.assertEqual(
            (entry.field_names, entry.actor_id, entry.object_id), (["phone"], user.pk, str(registration.pk))
        )

    def test_it_extends_only_with_a_reason_and_shows_overdue_after_the_new_date(self) -> None:
        user = _person()
        case = actions.file_request(subject=subject_of(user), type=RequestType.OBJECTION)
        with self.assertRaises(actions.CaseStepError):
            actions.extend_due_date(request=case, days=10, reason="", actor=user)
        before = case.due_date
        actions.extend_due_date(request=case, days=10, reason="consulting_others", actor=user)
        case.refresh_from_db()
        self.assertEqual(case.due_date - before, timedelta(days=10))
        self.assertEqual(case.extension_reason, "consulting_others")

    def test_it_withdraws_consent_through_the_consent_apps_action_s19(self) -> None:
        user = _person()
        office = builders.agency()
        grant_consent(
            subject=subject_of(user), agency=office, purpose="profile_prefill", channel=Channel.WEB, minor=False
        )
        case = actions.withdraw_consent_by_request(
            subject=subject_of(user), agency=office, purpose="profile_prefill", actor=user
        )
        consent = Consent.objects.get(subject=subject_of(user), purpose="profile_prefill")
        self.assertFalse(consent.granted)
        self.assertEqual(
            list(ConsentEvent.objects.filter(consent=consent).values_list("action", flat=True)),
            ["granted", "withdrawn"],
        )
        self.assertEqual((case.type, case.status), (RequestType.CONSENT_WITHDRAWAL, Status.COMPLETED))


class _Closed:
    """An account closed while the mail server refused the last message, and its kept address's key."""

    def committing(self) -> AbstractContextManager[object]:
        """Where the actions' commit callbacks run (a TestCase's run at the block's end)."""
        return nullcontext()

    def closed_with_smtp_refusing(self) -> RightsRequest:
        """Closes the account while the mail server refuses connections: the last message cannot go."""
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        nowhere = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
            }
        }
        user = _person()
        with override_settings(MAILERS=nowhere), self.committing():
            case = actions.close_account(user=user, origin=ORIGIN)
        case.refresh_from_db()
        return case

    def notice_keys(self, case: RightsRequest) -> list[object]:
        keys = DataKey.objects.using(KEYSTORE).filter(subject_id=case.subject_id, retention="erasure_notice")
        return list(keys.values_list("destroyed_at", flat=True))


@override_settings(TASKS=IMMEDIATE_TASKS)
class ClosingTests(_Closed, TestCase):
    databases = "__all__"

    def committing(self) -> AbstractContextManager[object]:
        return self.captureOnCommitCallbacks(execute=True)

    def test_it_closes_an_account_as_an_erasure_request_that_erase_person_carries_out_r3(self) -> None:
        mailbox = running()
        mailbox.clear()
        user = _person()
        self.client.post("/th/accounts/login/", {"identifier": "wanna", "password": "correct horse battery staple"})
        self.assertTrue(Session.objects.filter(user=user).exists())
        with self.captureOnCommitCallbacks(execute=True):
            case = actions.close_account(user=user, origin=ORIGIN)
        case.refresh_from_db()
        self.assertEqual((case.type, case.status, case.identity_method), ("erasure", "completed", "reauthentication"))
        self.assertFalse(Session.objects.filter(user=user).exists())
        self.assertFalse(User.objects.filter(subject_id=case.subject_id).exists())  # unlinked by erase_person
        self.assertTrue(AuditEntry.objects.filter(action="rights.erase", subject_id=case.subject_id).exists())
        self.assertIsNone(find_user(EMAIL))
        kinds = [text(m) for m in mailbox.received(to=EMAIL)]
        self.assertEqual(len(kinds), 2)  # received, then erased (to the address read before erasure)
        self.assertIn("ข้อมูลส่วนบุคคลของท่านถูกลบแล้ว", kinds[1])

    def test_it_destroys_the_address_kept_for_the_last_message_once_it_is_sent_r3(self) -> None:
        mailbox = running()
        mailbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            case = actions.close_account(user=_person(), origin=ORIGIN)
        self.assertEqual(len(mailbox.received(to=EMAIL)), 2)
        self.assertFalse(ErasureNotice.objects.exists())
        (destroyed,) = self.notice_keys(case)
        self.assertIsNotNone(destroyed)
        self.assertTrue(AuditEntry.objects.filter(action="rights.erasure_notice.forget", subject_id=case.subject_id))

    def test_it_sends_the_last_message_again_after_a_failure_then_destroys_the_address_r3(self) -> None:
        case = self.closed_with_smtp_refusing()
        self.assertEqual(
            (case.status, case.unsent_mail, case.last_error), ("completed", "erased", "ConnectionRefusedError")
        )
        self.assertIsNone(find_user(EMAIL))  # erased everywhere else...
        self.assertEqual(self.notice_keys(case), [None])  # ...but the last message's address, under its own key
        mailbox = running()
        mailbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.assertTrue(actions.resend_mail(request=case, actor=staff("dpo.close", role=StaffRole.DPO)))
        (last,) = mailbox.received(to=EMAIL)
        self.assertIn("ข้อมูลส่วนบุคคลของท่านถูกลบแล้ว", text(last))
        case.refresh_from_db()
        self.assertEqual((case.unsent_mail, case.last_error), ("", ""))
        self.assertFalse(ErasureNotice.objects.exists())
        self.assertIsNotNone(self.notice_keys(case)[0])

    def test_it_keeps_another_erasures_address_when_one_message_went_r3(self) -> None:
        subject = subject_of(_person())
        first, second = (
            actions.file_request(
                subject=subject, type=RequestType.ERASURE, identity_method=IdentityMethod.REAUTHENTICATION
            )
            for _number in range(2)
        )
        notices.keep_address(request=first, address=EMAIL)
        notices.keep_address(request=second, address=EMAIL)
        with self.captureOnCommitCallbacks(execute=True):
            notices.forget(request=first)
        self.assertEqual(notices.address(second), EMAIL)
        with self.captureOnCommitCallbacks(execute=True):
            notices.forget(request=second)
        self.assertIsNotNone(self.notice_keys(second)[0])

    def test_it_keeps_the_address_and_its_key_when_the_transaction_that_forgot_it_rolls_back_r3(self) -> None:
        case = self.closed_with_smtp_refusing()
        with self.captureOnCommitCallbacks(execute=True), self.assertRaises(_UndoneError), transaction.atomic():
            notices.forget(request=case)
            raise _UndoneError
        self.assertEqual(self.notice_keys(case), [None])
        self.assertEqual(notices.address(case), EMAIL)  # the row came back, and its key is still there

    def test_it_leaves_the_key_to_the_next_retention_run_when_destroying_it_after_the_commit_failed_r3(self) -> None:
        case = self.closed_with_smtp_refusing()
        gone = OperationalError("the key store went away")
        with (
            patch.object(vault_actions, "shred_unused_keys", side_effect=gone),
            self.captureOnCommitCallbacks(execute=True),
        ):
            notices.forget(request=case)
        self.assertFalse(ErasureNotice.objects.exists())
        self.assertEqual(self.notice_keys(case), [None])
        run_retention(only=["rights.erasure_notice"])
        self.assertIsNotNone(self.notice_keys(case)[0])
        self.assertFalse(KeyStoreWork.objects.exists())

    def test_it_forgets_the_address_of_a_sent_message_and_destroys_its_key_once_no_write_for_the_person_is_open(
        self,
    ) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: forgetting waits")
        case = actions.file_request(
            subject=subject_of(_person()), type=RequestType.ERASURE, identity_method=IdentityMethod.REAUTHENTICATION
        )
        notices.keep_address(request=case, address=EMAIL)
        with holding(case.subject_id), self.captureOnCommitCallbacks(execute=True):
            notices.forget(request=case)
        # The message went: the row is gone at once; its key waits for the write to end, then the next run.
        self.assertIsNone(notices.address(case))
        self.assertEqual(self.notice_keys(case), [None])
        run_retention(only=["rights.erasure_notice"])
        self.assertIsNotNone(self.notice_keys(case)[0])
        self.assertFalse(KeyStoreWork.objects.exists())

    def test_it_destroys_an_address_whose_message_never_went_after_its_period(self) -> None:
        case = self.closed_with_smtp_refusing()
        ErasureNotice.objects.update(created_at=timezone.now() - timedelta(days=31))
        run_retention(only=["rights.erasure_notice"])
        self.assertFalse(ErasureNotice.objects.exists())
        self.assertIsNotNone(self.notice_keys(case)[0])
        with self.assertRaises(actions.CaseStepError):  # nobody to write to any more: the case says so
            actions.resend_mail(request=case, actor=staff("dpo.close", role=StaffRole.DPO))

    def test_it_keeps_a_failed_erasure_on_the_case_to_be_retried(self) -> None:
        user = _person()
        case = actions.file_request(
            subject=subject_of(user), type=RequestType.ERASURE, identity_method=IdentityMethod.REAUTHENTICATION
        )
        live_keys = DataKey.objects.using(KEYSTORE).filter(subject_id=case.subject_id, wrapped__isnull=False)
        keys_before = set(live_keys.values_list("pk", flat=True))
        self.assertTrue(keys_before)
        with refusing_updates(DataKey) as refusal:
            self.assertFalse(actions.carry_out_erasure(request=case, actor=None))
        case.refresh_from_db()
        self.assertEqual((case.status, case.last_error), (Status.FAILED, refusal))
        # (It made the erasure notice's own key before the store refused: more keys, none fewer.)
        self.assertLessEqual(
            keys_before, set(live_keys.values_list("pk", flat=True)), "the failed run shredded nothing"
        )
        self.assertTrue(actions.carry_out_erasure(request=case, actor=None))
        case.refresh_from_db()
        self.assertEqual((case.status, case.last_error), (Status.COMPLETED, ""))

    def test_an_erasure_while_a_write_for_the_person_stays_open_fails_on_the_case_to_be_retried(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("on SQLite a writer holds the whole main database, not one person: the erasure waits")
        case = actions.file_request(
            subject=subject_of(_person()), type=RequestType.ERASURE, identity_method=IdentityMethod.REAUTHENTICATION
        )
        live_keys = DataKey.objects.using(KEYSTORE).filter(subject_id=case.subject_id, wrapped__isnull=False)
        keys_before = set(live_keys.values_list("pk", flat=True))
        with holding(case.subject_id):
            self.assertFalse(actions.carry_out_erasure(request=case, actor=None))
        case.refresh_from_db()
        self.assertEqual((case.status, case.last_error), (Status.FAILED, "PersonBusyError"))
        self.assertLessEqual(keys_before, set(live_keys.values_list("pk", flat=True)), "nothing was shredded")
        self.assertTrue(actions.carry_out_erasure(request=case, actor=None))
        case.refresh_from_db()
        self.assertEqual((case.status, case.last_error), (Status.COMPLETED, ""))


@override_settings(TASKS=IMMEDIATE_TASKS)
class ClosingCommittedTests(_Closed, TransactionTestCase):
    """What follows the actions' real commits (their commit callbacks run inside them)."""

    databases = "__all__"

    def test_it_clears_a_resent_message_even_if_its_keys_task_cannot_be_queued_r3(self) -> None:
        case = self.closed_with_smtp_refusing()
        with patch.object(retention_actions, "finish_key_store_work_task") as task, self.assertLogs("django.db"):
            task.enqueue.side_effect = OperationalError("the task queue went away")
            self.assertTrue(actions.resend_mail(request=case, actor=staff("dpo.close", role=StaffRole.DPO)))
        case.refresh_from_db()
        self.assertEqual((case.unsent_mail, case.last_error), ("", ""))  # the message went, and the case says so
        self.assertFalse(ErasureNotice.objects.exists())
        # The work committed with the deletion waits for the next retention run, which destroys the key.
        self.assertEqual(self.notice_keys(case), [None])
        run_retention(only=["rights.erasure_notice"])
        self.assertIsNotNone(self.notice_keys(case)[0])
        self.assertFalse(KeyStoreWork.objects.exists())
