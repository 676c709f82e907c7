"""R1-R3: the person's data from the registry, their requests as cases, and erasure (PDPA s30-s36)."""

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from shutil import which

from django.db import connections
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.html import escape

from raksa.accesslog.models import AccessRecord
from raksa.accesslog.redaction import redact_path
from raksa.accesslog.tests.helpers import SpoolDirectory, record, spool_and_ingest
from raksa.accounts.actions import change_email, log_in_app
from raksa.accounts.addresses import store as store_email
from raksa.accounts.models import Session, User
from raksa.audit.actions import record as record_audit
from raksa.audit.models import AuditEntry
from raksa.consent.actions import grant_consent, submit_inquiry
from raksa.consent.models import Channel
from raksa.disclosures.models import Disclosure, Recipient, RecipientKind
from raksa.registry import registry
from raksa.rights import actions, exports, finders, notices, queue, views
from raksa.rights.export import assemble
from raksa.rights.models import ErasureNotice, Export, ExportStatus, RequestType, RightsRequest, Status
from raksa.services.actions import add_note
from raksa.services.tests import builders
from raksa.subjects.models import Subject
from raksa.testing.accounts import IMMEDIATE_TASKS, PASSWORD, citizen, platform_operator
from raksa.vault.actions import save_sealed
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE

CANARY_USERNAME = "canary-somchai-5e1d"
CANARY_EMAIL = "canary.somchai+5e1d@example.org"
CANARY_DETAILS = "ขอแก้ไขที่อยู่ canary-details-8b2f"


def _person(username: str = CANARY_USERNAME, email: str = CANARY_EMAIL) -> User:
    platform_operator()
    user = citizen(username)
    store_email(user, email)
    return user


def _subject_of(user: User) -> Subject:
    return Subject.objects.get(account=user)


def sign_in(client: Client, username: str) -> None:
    """Through the log-in page, as a person does: the session has just proved the password."""
    response = client.post("/th/accounts/login/", {"identifier": username, "password": PASSWORD})
    assert response.status_code == 302, "the persona's log-in failed"


class MyDataTests(TestCase):
    databases = "__all__"

    def test_it_covers_every_store_the_registry_declares_r1(self) -> None:
        self.assertEqual(finders.unresolved_stores(), [])
        user = _person()
        self.client.force_login(user)
        page = self.client.get(reverse("rights:my_data"))
        self.assertEqual(page.status_code, 200)
        shown = {store["store"] for store in page.context["data"]["stores"]}
        linked = {s.model.lower() for s in registry.stores() if finders.finder_for(s.model) is not None}
        self.assertEqual(shown, linked)
        self.assertContains(page, CANARY_EMAIL)

    def test_it_counts_the_audit_entries_about_the_person_without_fetching_them(self) -> None:
        user = _person()
        subject = _subject_of(user)
        for _ in range(3):
            record_audit(action="gateway.read", role="officer", subject_id=subject.id, purpose="service_delivery")
        record_audit(action="retention.run", subject_id=subject.id)  # the system's own: not listed
        self.client.force_login(user)
        with CaptureQueriesContext(connections["default"]) as queries:
            page = self.client.get(reverse("rights:my_data"))
        self.assertContains(page, "3 รายการ")
        self.assertEqual(page.context["data"]["audit_total"], 3)
        (read,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"audit_auditentry"' in q["sql"]]
        self.assertIn("COUNT(", read)

    def test_it_fetches_the_keys_of_every_store_in_one_key_store_query(self) -> None:
        user = _person()
        actions.file_request(subject=_subject_of(user), type=RequestType.ACCESS, details=CANARY_DETAILS)
        self.client.force_login(user)
        with CaptureQueriesContext(connections[KEYSTORE]) as queries:
            page = self.client.get(reverse("rights:my_data"))
        self.assertContains(page, CANARY_EMAIL)  # sealed in the account's e-mail store
        self.assertContains(page, CANARY_DETAILS)  # sealed in the requests' store, under another key
        self.assertEqual(len(queries), 1)

    def test_it_reads_no_store_that_holds_nothing_about_the_person(self) -> None:
        user = _person()
        self.client.force_login(user)
        with CaptureQueriesContext(connections["default"]) as queries:
            page = self.client.get(reverse("rights:my_data"))
        stores = {store["store"]: store for store in page.context["data"]["stores"]}
        emails, notices_kept = stores["accounts.accountemail"], stores["rights.erasurenotice"]
        self.assertEqual((emails["total"], len(emails["rows"])), (1, 1))
        self.assertEqual((notices_kept["total"], notices_kept["rows"]), (0, []))
        read = [q["sql"] for q in queries if q["sql"].startswith('SELECT "rights_erasurenotice".')]
        self.assertEqual(read, [])
        # Another person's rows are not counted as theirs.
        other = citizen("another-person")
        store_email(other, "another.person@example.org")
        self.assertEqual(finders.counts(_subject_of(user).id, ["accounts.AccountEmail"]), {"accounts.AccountEmail": 1})

    def test_it_exports_every_audit_entry_about_the_person_however_many_r1(self) -> None:
        subject = _subject_of(_person())
        for _ in range(1_001):  # the export stopped at 1,000 without saying so
            record_audit(action="gateway.read", role="officer", subject_id=subject.id, purpose="service_delivery")
        data = assemble(subject.id, opener=Opener.for_system("export"))
        self.assertEqual(len(data["audit_entries_about_me"]), 1_001)

    def export(self, user: User, format: str = "json") -> tuple[Export, str]:
        sign_in(self.client, user.username)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("rights:request_export"), {"format": format})
        export = Export.objects.get(subject=user.subject)
        self.assertRedirects(response, reverse("rights:export", args=[export.id]))
        status = self.client.get(reverse("rights:export", args=[export.id]))
        self.assertEqual(status.context["export"].status, ExportStatus.READY)
        return export, status.context["token"]

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_it_downloads_the_versioned_json_export_once_audited_r1(self) -> None:
        user = _person()
        export, token = self.export(user)
        link = reverse("rights:export_download", args=[export.id, token])
        data = json.loads(self.client.get(link).content)
        self.assertEqual((data["schema"], data["version"]), ("raksa.rights.export", 1))
        emails = [
            row["fields"]["email"]["value"]
            for store in data["stores"]
            if store["store"] == "accounts.accountemail"
            for row in store["rows"]
        ]
        self.assertEqual(emails, [CANARY_EMAIL])
        self.assertEqual(self.client.get(link).status_code, 410)  # single use
        self.assertNotIn(token, redact_path(link))  # the access log never keeps the token
        actions_done = set(AuditEntry.objects.filter(object_id=str(export.id)).values_list("action", flat=True))
        self.assertEqual(actions_done, {"rights.export.request", "rights.export.produce", "rights.export.download"})

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_it_downloads_a_pdf_in_the_persons_language_r1(self) -> None:
        user = _person()
        export, token = self.export(user, "pdf")
        response = self.client.get(reverse("rights:export_download", args=[export.id, token]))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
        if which("pdftotext") is None:
            self.skipTest("poppler-utils (pdftotext) is not installed: the PDF's text cannot be read back")
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        self.assertIn("ข้อมูลของฉัน", text)  # the Thai title, written with an embedded Thai font
        self.assertIn(CANARY_EMAIL, text)

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_it_refuses_an_expired_link_and_another_persons_export(self) -> None:
        user = _person()
        export, token = self.export(user, "html")
        Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        link = reverse("rights:export_download", args=[export.id, token])
        self.assertEqual(self.client.get(link).status_code, 410)
        self.client.force_login(_person("other-person", "other@example.org"))
        self.assertEqual(self.client.get(reverse("rights:export", args=[export.id])).status_code, 404)
        self.assertEqual(self.client.get(link).status_code, 404)


def _visits(subject: Subject, count: int) -> None:
    """`count` signed-in requests, one a second, the newest last: /th/visit-000/ is the oldest."""
    now = timezone.now()
    lines = [
        record(when=now - timedelta(seconds=count - i), path=f"/th/visit-{i:03}/", subject=str(subject.id))
        for i in range(count)
    ]
    with SpoolDirectory() as spool_directory:
        spool_and_ingest(spool_directory.path, lines)


class MyDataPagesTests(TestCase):
    """My data shows a long store's newest rows and its count; the download keeps every row (R1)."""

    databases = "__all__"

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_it_shows_a_long_stores_count_newest_rows_and_the_download_that_holds_them_all_r1(self) -> None:
        user = _person()
        _visits(_subject_of(user), 120)
        sign_in(self.client, user.username)
        page = self.client.get("/en/me/data/")
        self.assertContains(page, "Rows 1 to 50 of 120, newest first.")
        self.assertContains(page, "The other 70 rows are in the download of your data:")
        self.assertContains(page, '<a href="#download">prepare a download</a>')
        self.assertContains(page, 'id="download"')
        self.assertContains(page, "/th/visit-119/")
        self.assertContains(page, "/th/visit-070/")
        self.assertNotContains(page, "/th/visit-069/")
        self.assertContains(page, 'href="/en/me/data/?store=accesslog.accessrecord&amp;page=2#rows"')
        thai = self.client.get("/th/me/data/")
        self.assertContains(thai, "รายการที่ 1 ถึง 50 จากทั้งหมด 120 รายการ เรียงจากล่าสุด")

        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("rights:request_export"), {"format": "json"})
        export = Export.objects.get(subject=user.subject)
        token = self.client.get(reverse("rights:export", args=[export.id])).context["token"]
        data = json.loads(self.client.get(reverse("rights:export_download", args=[export.id, token])).content)
        (visits,) = [store for store in data["stores"] if store["store"] == "accesslog.accessrecord"]
        paths = {row["fields"]["path"]["value"] for row in visits["rows"]}
        self.assertEqual(paths & {f"/th/visit-{i:03}/" for i in range(120)}, {f"/th/visit-{i:03}/" for i in range(120)})
        self.assertEqual(visits["total"], len(visits["rows"]))

    def test_it_pages_through_a_long_store_of_the_persons_own_rows_only_r1(self) -> None:
        user = _person()
        _visits(_subject_of(user), 120)
        self.client.force_login(user)
        second = self.client.get("/en/me/data/?store=accesslog.accessrecord&page=2")
        self.assertContains(second, "Rows 51 to 100 of 120, newest first.")
        self.assertContains(second, "/th/visit-069/")
        self.assertNotContains(second, "/th/visit-070/")
        self.assertNotContains(second, "/th/visit-019/")
        self.assertContains(second, 'href="/en/me/data/?store=accesslog.accessrecord&amp;page=1#rows">newer rows')
        last = self.client.get("/en/me/data/?store=accesslog.accessrecord&page=3")
        self.assertContains(last, "Rows 101 to 120 of 120, newest first.")
        self.assertContains(last, "/th/visit-000/")
        self.assertNotContains(last, "older rows")
        for query in ("page=4", "page=0", "page=x", "page=-1", "page=²", "page=99999999999999999999999"):
            with self.subTest(query):
                url = f"/en/me/data/?store=accesslog.accessrecord&{query}"
                self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.get("/en/me/data/?store=auth.permission&page=2").status_code, 404)
        self.client.force_login(_person("other-person", "other@example.org"))
        other = self.client.get("/en/me/data/?store=accesslog.accessrecord&page=2")
        self.assertEqual(other.status_code, 404)  # the other person has no second page: no row of Malee's

    def test_it_shows_every_row_of_a_short_store_as_before(self) -> None:
        user = _person()
        _visits(_subject_of(user), 3)
        self.client.force_login(user)
        page = self.client.get("/en/me/data/")
        for i in range(3):
            self.assertContains(page, f"/th/visit-{i:03}/")
        self.assertNotContains(page, "newest first.")
        self.assertNotContains(page, "older rows")
        self.assertContains(page, CANARY_EMAIL)

    def test_it_escapes_every_value_label_and_link_it_writes(self) -> None:
        marked = "<script>alert('x')</script> & \"quoted\""
        field = {"category": "c<", "legal_basis": "l&", "retention": "r>", "erased": False, "sealed": False}
        store = {
            "store": "app.mo<del>",
            "label": "<i>label</i>",
            "total": 60,
            "rows": [
                {"id": "1", "fields": {"f<": {**field, "value": marked}, "n": {**field, "value": 1234567}}},
                {"id": "2", "fields": {"n": {**field, "value": None}, "e": {**field, "value": None, "erased": True}}},
            ],
        }
        with translation.override("en"):
            written = str(views._stores_html([store], {}))
        self.assertNotIn("<script>", written)
        self.assertNotIn("<i>", written)
        self.assertIn(escape(marked), written)
        self.assertIn("<dt>f&lt;</dt>", written)
        self.assertIn("(c&lt;; l&amp;; r&gt;)", written)
        self.assertIn(f"<dd>{localize(1234567)}\n", written)  # a number as the template writes it
        self.assertIn("<dd>—\n", written)
        self.assertIn("<dd>erased\n", written)
        self.assertIn('data-store="app.mo&lt;del&gt;"', written)
        self.assertIn("?store=app.mo%3Cdel%3E&amp;page=2#rows", written)
        self.assertIn("Rows 1 to 2 of 60, newest first.", written)


class RequestTests(TestCase):
    databases = "__all__"

    def test_it_computes_the_30_day_deadline_of_access_r2(self) -> None:
        self.assertEqual(
            actions.due_date_for(RequestType.ACCESS, datetime.fromisoformat("2026-01-31T10:00:00+07:00")).isoformat(),
            "2026-03-02",
        )

    @override_settings(RAKSA_RIGHTS_DUE_DAYS={"erasure": 15})
    def test_it_takes_the_deadline_per_type_from_settings(self) -> None:
        due = actions.due_date_for(RequestType.ERASURE, datetime.fromisoformat("2026-01-01T10:00:00+07:00"))
        self.assertEqual(due.isoformat(), "2026-01-16")

    def test_it_answers_not_found_for_another_persons_request(self) -> None:
        owner = _person()
        other = _person("other-person", "other@example.org")
        case = actions.file_request(subject=_subject_of(owner), type=RequestType.ACCESS, details=CANARY_DETAILS)
        self.client.force_login(other)
        self.assertEqual(self.client.get(reverse("rights:request", args=[case.id])).status_code, 404)
        self.client.force_login(owner)
        self.assertContains(self.client.get(reverse("rights:request", args=[case.id])), CANARY_DETAILS)

    def test_it_files_a_request_from_the_form_with_its_history(self) -> None:
        user = _person()
        sign_in(self.client, user.username)
        response = self.client.post(reverse("rights:new_request"), {"type": "rectification", "details": "x"})
        case = RightsRequest.objects.get(subject=user.subject)
        self.assertRedirects(response, reverse("rights:request", args=[case.id]))
        self.assertEqual([event.status for event in case.events.all()], [Status.RECEIVED, Status.RECEIVED])
        self.assertEqual(case.identity_method, "reauthentication")  # the fresh log-in proved who filed it

    def test_it_refuses_only_with_a_legal_reason_recorded_for_the_ropa_r2(self) -> None:
        user = _person()
        case = actions.file_request(subject=_subject_of(user), type=RequestType.ERASURE)
        with self.assertRaises(actions.RefusalWithoutReasonError):
            actions.set_status(request=case, status=Status.REFUSED, actor=None)
        actions.set_status(request=case, status=Status.REFUSED, actor=None, refusal_reason="pdpa_s33_legal_obligation")
        self.assertEqual(actions.refusals(), [("erasure", "pdpa_s33_legal_obligation", 1)])

    def test_it_shows_a_failed_step_with_its_error_and_lets_it_be_retried(self) -> None:
        user = _person()
        case = actions.file_request(subject=_subject_of(user), type=RequestType.ACCESS)
        actions.set_status(request=case, status=Status.FAILED, actor=None, error="SMTPConnectError")
        self.client.force_login(user)
        self.assertContains(self.client.get(reverse("rights:request", args=[case.id])), "SMTPConnectError")
        actions.set_status(request=case, status=Status.IN_PROGRESS, actor=None)
        case.refresh_from_db()
        self.assertEqual(case.last_error, "")


@dataclass
class Everywhere:
    user: User
    canaries: list[str]


def _person_everywhere() -> Everywhere:
    """A person with data in every store: account, sessions, consents, an inquiry, a registration and its
    case note, a disclosure made under a court order, recorded visits, a request and a download."""
    user = _person()
    subject = _subject_of(user)
    Client().post("/th/accounts/login/", {"identifier": CANARY_USERNAME, "password": PASSWORD})
    office = builders.agency()
    grant_consent(
        subject=subject,
        agency=office,
        purpose="news_and_pr",
        channel=Channel.WEB,
        minor=False,
        email="canary.news+5e1d@example.org",
    )
    submit_inquiry(
        agency=office,
        kind="question",
        name="สมชาย canary-inquiry-name",
        email="canary.inquiry+5e1d@example.org",
        message="canary-inquiry-message",
        subject=subject,
        language="th",
    )
    registration = builders.registration(
        builders.certificate(office),
        user,
        name="canary-registration-name",
        phone="0811115e1d",
        address="canary-registration-address",
        national_id="3100600445635",
    )
    officer = builders.officer("officer.everywhere", office)
    add_note(registration=registration, staff=officer, text="canary-case-note")
    recipient = Recipient.objects.create(
        agency=office, slug="court", name_th="ศาลแพ่ง", name_en="Civil Court", kind=RecipientKind.AGENCY
    )
    disclosure = Disclosure(
        subject=subject,
        controller_id=office.controller_id,
        agency=office,
        recipient=recipient,
        purpose="rights_requests",
        basis="legal",
        legal_reference="คำสั่งศาล 1/2569",
        issuing_authority="ศาลแพ่ง",
        order_date=timezone.localdate(),
        document="canary-court-order",
    )
    save_sealed(disclosure)
    with SpoolDirectory() as spool_directory:
        spool_and_ingest(spool_directory.path, [record(when=timezone.now(), subject=str(subject.id))])
    erasure = actions.file_request(subject=subject, type=RequestType.ERASURE, details=CANARY_DETAILS)
    # As carry_out_erasure does just before erasing: the last message's address, under a key of its own.
    notices.keep_address(request=erasure, address="canary.account+5e1d@example.org")
    export = exports.request_export(subject=subject, format="json", language="th", actor=user)
    exports.produce(export=export)
    log_in_app(user=user, platform="Android")
    change_email(user=user, email="canary.new+5e1d@example.org", origin="http://testserver", language="th")
    return Everywhere(
        user=user,
        canaries=[
            CANARY_USERNAME,
            CANARY_EMAIL,
            CANARY_DETAILS,
            "canary.news+5e1d@example.org",
            "canary-inquiry-name",
            "canary.inquiry+5e1d@example.org",
            "canary-inquiry-message",
            "canary-registration-name",
            "0811115e1d",
            "canary-registration-address",
            "3100600445635",
            "canary-case-note",
            "canary.new+5e1d@example.org",
        ],
    )


def _database_bytes(alias: str) -> bytes:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.serialize()
    settings = connection.settings_dict
    command = ["pg_dump", "--no-owner", "-d", settings["NAME"]]
    for option, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if settings[key]:
            command += [option, str(settings[key])]
    environment = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    return subprocess.run(command, check=True, capture_output=True, env=environment, timeout=120).stdout


class ErasureTests(TransactionTestCase):
    databases = "__all__"

    def _scan(self) -> bytes:
        return _database_bytes("default") + _database_bytes(KEYSTORE)

    def test_it_erases_everywhere_the_registry_knows_and_keeps_the_audit_log_r3(self) -> None:
        user = _person()
        subject = _subject_of(user)
        actions.file_request(subject=subject, type=RequestType.ERASURE, details=CANARY_DETAILS)
        self.assertIn(CANARY_USERNAME.encode(), self._scan())  # the scan can see a plaintext value
        entries = set(AuditEntry.objects.filter(subject_id=subject.id).values_list("id", flat=True))
        self.assertTrue(entries)

        plan = actions.plan_erasure(subject_id=subject.id)
        self.assertEqual(plan.rows["accounts.User"], 1)
        self.assertGreaterEqual(plan.keys, 1)
        actions.erase_person(subject=subject)

        self.assertFalse(self.client.login(username=CANARY_USERNAME, password=PASSWORD))
        dump = self._scan()
        for value in (CANARY_USERNAME, CANARY_EMAIL, CANARY_DETAILS):
            self.assertNotIn(value.encode(), dump, value)
        self.assertFalse(User.objects.filter(subject_id=subject.id).exists())
        after = set(AuditEntry.objects.filter(subject_id=subject.id).values_list("id", flat=True))
        self.assertLess(entries, after)  # kept unchanged, plus the erasure's own entries
        self.assertTrue(Subject.objects.filter(pk=subject.id).exists())
        self.assertEqual(actions.plan_erasure(subject_id=subject.id).keys, 0)

    def test_it_misses_no_store_the_registry_declares_and_lists_what_the_law_keeps_r3(self) -> None:
        """A person with a row in every store the registry links to a subject (accounts, consent,
        services, disclosures, the access log, rights): erasure leaves no value of theirs readable,
        except the stores a law makes the agency keep, which the plan lists with the law and the period."""
        person = _person_everywhere()
        subject = _subject_of(person.user)
        everyone = Opener.for_system("export")
        held = {store["store"] for store in assemble(subject.id, opener=everyone)["stores"] if store["rows"]}
        linked = {s.model.lower() for s in registry.stores() if finders.finder_for(s.model) is not None}
        self.assertEqual(linked - held, set(), "give the person of this test a row in each store the registry links")
        visits = AccessRecord.objects.filter(subject_id=subject.id).count()
        clients_of = finders.finder_for("accesslog.DayClient")
        assert clients_of is not None
        clients = clients_of(subject.id).count()
        self.assertGreaterEqual(clients, 1)

        plan = actions.erase_person(subject=subject)

        kept = {item.retention.code: item for item in plan.kept}
        # The law keeps the visits and the clients (IP and browser) they came from (Computer-Related Crime
        # Act s26, 90 days) and the disclosure ledger's evidence (a case file under the Official
        # Information Act): listed, with their law and period.
        self.assertEqual(set(kept), {"access_log", "case_file"})
        self.assertEqual(kept["access_log"].rows, visits + clients)
        self.assertGreaterEqual(kept["case_file"].keys, 1)
        self.assertTrue(all(item.reason and item.period_days for item in plan.kept))
        # The address of the message confirming the erasure outlives it until that message is sent.
        self.assertTrue(ErasureNotice.objects.filter(subject_id=subject.id).exists())
        notices.forget(request=RightsRequest.objects.get(subject=subject, type=RequestType.ERASURE))
        for store in assemble(subject.id, opener=everyone)["stores"]:
            for row in store["rows"]:
                for name, field in row["fields"].items():
                    if field["retention"] in kept:
                        continue
                    self.assertTrue(field["erased"] or field["value"] is None, f"{store['store']}.{name} survived")
        self.assertEqual(AccessRecord.objects.filter(subject_id=subject.id).count(), visits)
        self.assertEqual(clients_of(subject.id).count(), clients)
        self.assertFalse(Session.objects.filter(user=person.user).exists())
        dump = self._scan()
        for canary in person.canaries:
            self.assertNotIn(canary.encode(), dump, canary)


class QueueTests(TestCase):
    databases = "__all__"

    def test_it_shows_overdue_and_close_to_due_cases_and_the_sla_r2(self) -> None:
        user = _person()
        subject = _subject_of(user)
        late = actions.file_request(subject=subject, type=RequestType.ACCESS)
        soon = actions.file_request(subject=subject, type=RequestType.OBJECTION)
        done = actions.file_request(subject=subject, type=RequestType.RECTIFICATION)
        today = timezone.localdate()
        RightsRequest.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=1))
        RightsRequest.objects.filter(pk=soon.pk).update(due_date=today + timedelta(days=2))
        actions.set_status(request=done, status=Status.COMPLETED, actor=None)
        self.assertEqual(list(queue.overdue()), [late])
        self.assertEqual(list(queue.close_to_due()), [soon])
        figures = queue.sla()
        self.assertEqual((figures.closed, figures.share_in_time), (1, 1.0))
        self.assertLess(figures.median_days_to_close or 0, 1)
