import logging
import shutil
import tempfile
import threading
from pathlib import Path

from django.test import Client, SimpleTestCase, TestCase, override_settings

from raksa.accesslog import spool
from raksa.accesslog.daykeys import DayKeys
from raksa.accesslog.ingest import ingest_spool
from raksa.accesslog.models import AccessRecord, DailyCount
from raksa.accesslog.redaction import REDACTED, clean_referrer
from raksa.accesslog.tests.helpers import CHROME, SpoolDirectory, client_of, staff
from raksa.audit.models import AuditEntry
from raksa.env import env_networks
from raksa.testing import accounts

TOKEN = "Mg-cd8f1e2a9b7c4d3e8f1a2b3c4d5e6f7a"


class CaptureTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())

    def test_it_spools_each_request_before_the_response_returns_c2(self) -> None:
        with self.assertNumQueries(0):  # no database on the request path
            response = self.client.get("/", HTTP_USER_AGENT=CHROME, HTTP_REFERER="https://www.google.com/search?q=x")
        self.assertEqual(response.status_code, 302)
        [line] = self.spool.lines()
        sequence, time_ms, _duration, method, status, size, ip, host, path, referrer, agent, subject, _rid = line
        self.assertEqual(
            (sequence, method, status, ip, host, path), ("1", "GET", "302", "127.0.0.1", "testserver", "/")
        )
        self.assertEqual(referrer, "https://www.google.com/")  # another site: its origin only
        self.assertEqual(agent, CHROME)
        self.assertEqual(subject, "")
        self.assertGreater(int(time_ms), 1_700_000_000_000)
        self.assertEqual(int(size), len(response.content))

    def test_it_records_the_client_a_trusted_proxy_forwarded_and_no_one_elses_c2(self) -> None:
        with override_settings(RAKSA_TRUSTED_PROXIES=env_networks("RAKSA_TEST_NO_SUCH_VARIABLE", ("127.0.0.1",))):
            self.client.get("/th/", HTTP_X_FORWARDED_FOR="198.51.100.1")
        self.client.get("/th/", HTTP_X_FORWARDED_FOR="198.51.100.1")  # no trusted proxy: anyone's to write
        self.assertEqual([line[6] for line in self.spool.lines()], ["198.51.100.1", "127.0.0.1"])

    def test_it_keeps_only_allow_listed_query_parameters_c2(self) -> None:
        self.client.get("/th/?page=2&email=somchai%40example.com&token=abc&q=my+name")
        [line] = self.spool.lines()
        self.assertEqual(line[8], "/th/?page=2")

    def test_it_escapes_tabs_and_newlines_so_a_line_stays_one_record(self) -> None:
        self.client.get("/th/", HTTP_USER_AGENT="evil\tagent\nwith lines\\")
        ingest_spool(directory=self.spool.path)
        self.assertEqual(len(self.spool.lines()), 1)
        [stored] = AccessRecord.objects.all()
        client = client_of(stored)
        opener = DayKeys().for_reading(stored.day)
        self.assertEqual(
            opener.unseal("user_agent", client.user_agent_sealed, client.ip_index), "evil\tagent\nwith lines\\"
        )

    def test_it_ingests_a_request_for_a_nul_character_and_the_requests_after_it_c2(self) -> None:
        # PostgreSQL's text cannot hold NUL: one request for /%00 stopped every later record for good.
        self.client.get("/th/")
        self.client.get("/th/%00x/", HTTP_USER_AGENT="nul\x00agent")
        self.client.get("/en/")

        self.assertEqual(ingest_spool(directory=self.spool.path).records, 3)

        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True)), ["/en/", "/th/", "/th/\ufffdx/"])

    def test_it_records_the_account_of_a_logged_in_person_c2(self) -> None:
        user = staff("dpo.capture", "dpo")
        self.client.force_login(user)
        self.client.get("/th/")
        [line] = self.spool.lines()
        self.assertEqual(line[11], str(user.subject_id))

    @override_settings(ROOT_URLCONF="raksa.accesslog.tests.urls")
    def test_it_never_keeps_a_token_in_the_spool_tables_or_log_c2(self) -> None:
        root = logging.getLogger()
        captured: list[str] = []
        handler = logging.Handler(level=logging.DEBUG)
        handler.emit = lambda record: captured.append(record.getMessage())  # type: ignore[method-assign]
        for name in ("", "django.server", "django.request"):
            logging.getLogger(name).addHandler(handler)
            self.addCleanup(logging.getLogger(name).removeHandler, handler)
        previous = root.level
        root.setLevel(logging.DEBUG)
        self.addCleanup(root.setLevel, previous)

        reset = f"/th/testing/reset/{TOKEN}/"
        response = self.client.get(reset, follow=True)
        self.assertEqual(response.redirect_chain[-1][0], "/th/testing/set-password/")
        self.client.get("/th/testing/set-password/", HTTP_REFERER=f"http://testserver{reset}")
        self.client.get(f"/en/testing/download/{TOKEN}/?token={TOKEN}")
        self.client.get(f"/en/testing/download/{TOKEN}")  # no trailing slash: does not resolve, still cut
        self.client.get(f"/th/nowhere/?token={TOKEN}")  # a 404, which Django logs

        spooled = self.spool.raw().decode()
        self.assertIn(f"/th/testing/reset/{REDACTED}", spooled)
        self.assertIn(f"/en/testing/download/{REDACTED}", spooled)
        self.assertNotIn(TOKEN, spooled)
        ingest_spool(directory=self.spool.path)
        self.assertEqual(AccessRecord.objects.count(), 6)
        stored = list(AccessRecord.objects.values_list("path", "referrer")) + list(
            DailyCount.objects.values_list("key", "dimension")
        )
        self.assertNotIn(TOKEN, repr(stored))
        self.assertIn(("/th/testing/set-password/", f"/th/testing/reset/{REDACTED}"), stored)
        self.assertNotIn(TOKEN, "\n".join(captured))

    def test_it_cuts_the_accounts_reset_and_confirmation_links_c2(self) -> None:
        self.client.get(f"/th/accounts/password/reset/{TOKEN}/")
        self.client.get(f"/en/accounts/confirm/{TOKEN}/")
        self.client.get("/th/accounts/password/reset/")  # the form itself carries nothing
        spooled = self.spool.raw().decode()
        self.assertNotIn(TOKEN, spooled)
        self.assertIn(f"/th/accounts/password/reset/{REDACTED}", spooled)
        self.assertIn(f"/en/accounts/confirm/{REDACTED}", spooled)
        self.assertIn("\t/th/accounts/password/reset/\t", spooled)

    def test_it_cuts_our_own_referring_pages_like_requests(self) -> None:
        self.assertEqual(clean_referrer("https://raksa.example/th/?page=2&email=x", "raksa.example"), "/th/?page=2")
        self.assertEqual(
            clean_referrer("https://other.example/private/path?q=1", "raksa.example"), "https://other.example/"
        )
        self.assertEqual(clean_referrer("android-app://com.example", "raksa.example"), "")

    def test_it_keeps_a_referring_host_no_name_could_have_out_of_the_statistics(self) -> None:
        """A Referer is anyone's to write: a host longer than any DNS name would not fit the roll-up's
        key, and one batch refused would stop the ingest for good."""
        self.client.get("/th/", HTTP_REFERER=f"https://{'a' * 600}.example/page")
        ingest_spool(directory=self.spool.path)
        [stored] = AccessRecord.objects.all()
        self.assertEqual(stored.referrer, "")
        self.assertFalse(DailyCount.objects.filter(dimension="referrer").exists())


def _fsync_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "accesslog-fsync"}


class SpoolWriterThreadTests(SimpleTestCase):
    """Each writer's fsync thread lives as long as its writer: a test run (or a process that changes its
    spool directory) no longer gathers threads that wake every second for ever."""

    def test_it_ends_its_fsync_thread_when_closed_and_starts_one_when_written_again(self) -> None:
        directory = Path(tempfile.mkdtemp(prefix="raksa-spool-"))
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        writer = spool.SpoolWriter(directory)
        self.addCleanup(writer.close)
        before = _fsync_threads()
        writer.write("first")
        [first] = _fsync_threads() - before
        writer.close()
        self.assertFalse(first.is_alive())
        writer.write("second")
        [second] = _fsync_threads() - before
        self.assertIsNot(second, first)
        writer.close()
        self.assertFalse(second.is_alive())
        self.assertEqual(len(spool.spool_files(directory)), 2)  # both files sealed and kept

    def test_it_closes_the_writer_of_a_spool_directory_it_no_longer_uses(self) -> None:
        first, second = (Path(tempfile.mkdtemp(prefix="raksa-spool-")) for _ in range(2))
        for directory in (first, second):
            self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        before = _fsync_threads()
        with override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=first):
            spool.writer().write("to the first directory")
        [syncing] = _fsync_threads() - before
        with override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=second):
            self.addCleanup(spool.writer().close)
        self.assertFalse(syncing.is_alive())
        self.assertEqual([path.suffix for path in spool.spool_files(first)], [spool.SEALED_SUFFIX])


class UnwritableSpoolTests(TestCase):
    databases = "__all__"

    def test_it_reports_an_unwritable_spool_loudly_and_keeps_the_records(self) -> None:
        base = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, base, ignore_errors=True)
        blocker = base / "spool"
        blocker.write_text("a file where the spool directory should be")
        with override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=blocker / "inner"):
            with self.assertLogs("raksa.accesslog.spool", level="ERROR") as logs:
                response = self.client.get("/")
            self.assertEqual(response.status_code, 302)  # the visit is served
            self.assertIn("cannot be written", logs.output[0])
            writer = spool.writer()
            self.assertEqual(writer.counters.failures, 1)
            with self.assertLogs("raksa.core.views", level="ERROR"):
                health = self.client.get("/healthz")
            self.assertEqual(health.status_code, 503)
            self.assertEqual(health.json(), {"status": "error", "database": "ok", "accesslog": "error"})

            # Once the disk is back, the waiting records are written, none lost.
            blocker.unlink()
            self.client.get("/th/")
            self.assertEqual(len(spool.spool_files(blocker / "inner")), 1)
            lines = spool.spool_files(blocker / "inner")[0].read_text().splitlines()
            self.assertEqual([line.split("\t")[8] for line in lines], ["/", "/healthz", "/th/"])
            self.assertEqual(self.client.get("/healthz").json(), {"status": "ok", "database": "ok"})
            writer.close()

    def test_it_stays_healthy_while_threads_write_at_once(self) -> None:
        # gunicorn's threaded workers: a health check must not mistake another thread's write in
        # progress for a failure (a threaded server answered /healthz 503 under load).
        directory = self.enterContext(SpoolDirectory())
        writer = spool.SpoolWriter(directory.path)
        self.addCleanup(writer.close)

        def write_many() -> None:
            for number in range(3_000):
                writer.write(f"line {number}")

        threads = [threading.Thread(target=write_many) for _ in range(3)]
        for thread in threads:
            thread.start()
        unhealthy = 0
        while any(thread.is_alive() for thread in threads):
            unhealthy += not writer.healthy()
        self.assertEqual(unhealthy, 0)
        self.assertEqual(writer.counters.written, 9_000)

    def test_it_refuses_audited_actions_while_the_spool_fails_s3(self) -> None:
        accounts.citizen("somsri")
        base = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, base, ignore_errors=True)
        blocker = base / "spool"
        blocker.write_text("a file where the spool directory should be")
        client = Client(raise_request_exception=False)
        log_in = {"identifier": "somsri", "password": accounts.PASSWORD}
        with override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=blocker / "inner"):
            with self.assertLogs("raksa.accesslog.spool", level="ERROR"):
                self.assertEqual(client.get("/en/accounts/login/").status_code, 200)  # reading is served
                refused = client.post("/en/accounts/login/", log_in)
            self.assertEqual(refused.status_code, 503)
            self.assertContains(refused, "Service temporarily unavailable", status_code=503)
            self.assertNotIn("_auth_user_id", client.session)
            self.assertFalse(AuditEntry.objects.filter(action="accounts.login").exists())

            blocker.unlink()
            client.get("/en/accounts/login/")
            self.assertEqual(client.post("/en/accounts/login/", log_in).status_code, 302)
            self.assertTrue(AuditEntry.objects.filter(action="accounts.login").exists())
            spool.writer().close()
