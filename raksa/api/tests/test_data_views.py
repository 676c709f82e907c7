"""My data through the application as on My data's pages: the background download, the erasure dry run,
closing the account, my own corrections, and giving the password again (re-authentication)."""

import json
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from raksa.accesslog.redaction import redact_path
from raksa.accounts.addresses import store
from raksa.accounts.models import AppToken
from raksa.api.tests.client import ApiTestCase
from raksa.audit.models import AuditEntry
from raksa.rights.models import Export, RequestType, RightsRequest
from raksa.rights.models import Status as CaseStatus
from raksa.services.tests import builders
from raksa.testing import accounts as personas
from raksa.vault.openers import Opener

EMAIL = "malee@example.org"


class DataTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")
        store(self.user, EMAIL)
        self.token = self.token_for(self.user)

    def make_old(self) -> None:
        AppToken.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_produces_my_download_in_the_background_and_serves_it_once_r1(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            started = self.call("POST", "/me/exports", {"format": "json"}, token=self.token)
        self.assertEqual(started.status_code, 202, started.content)
        export_id = started.json()["id"]
        ready = self.call("GET", f"/me/exports/{export_id}", token=self.token).json()
        self.assertEqual((ready["status"], ready["progress"]), ("ready", 100))
        self.assertTrue(ready["download_url"].startswith("http://testserver/api/v1/me/exports/"))
        path = ready["download_url"].removeprefix("http://testserver/api/v1")
        downloaded = self.call("GET", path, token=self.token)
        self.assertEqual(downloaded["Content-Type"], "application/json")
        data = json.loads(downloaded.content)
        self.assertEqual(data["schema"], "raksa.rights.export")
        self.assertProblem(self.call("GET", path, token=self.token), 410, "gone")  # single use
        token = path.rsplit("/", 1)[1]
        self.assertNotIn(token, redact_path(f"/api/v1{path}"))  # the access log never keeps the token
        listed = self.call("GET", "/me/exports", token=self.token).json()["items"]
        self.assertEqual([(e["id"], e["status"]) for e in listed], [(export_id, "downloaded")])
        done = set(AuditEntry.objects.filter(object_id=export_id).values_list("action", flat=True))
        self.assertEqual(done, {"rights.export.request", "rights.export.produce", "rights.export.download"})

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_serves_a_pdf_and_hides_another_persons_download(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            export_id = self.call("POST", "/me/exports", {"format": "pdf"}, token=self.token).json()["id"]
        url = self.call("GET", f"/me/exports/{export_id}", token=self.token).json()["download_url"]
        other = self.token_for(personas.citizen("somchai"))
        theirs = url.removeprefix("http://testserver/api/v1")
        self.assertProblem(self.call("GET", f"/me/exports/{export_id}", token=other), 404, "not-found")
        self.assertProblem(self.call("GET", theirs, token=other), 404, "not-found")
        pdf = self.call("GET", theirs, token=self.token)
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        self.assertTrue(pdf.content.startswith(b"%PDF-"))

    def test_it_starts_a_download_only_with_a_recent_password_and_a_known_format(self) -> None:
        self.make_old()
        self.assertProblem(
            self.call("POST", "/me/exports", {"format": "json"}, token=self.token), 403, "reauthentication-required"
        )
        wrong = self.call("POST", "/auth/reauthenticate", {"password": "not it"}, token=self.token)
        self.assertIn("password", self.field_errors(self.assertProblem(wrong, 422, "invalid-input")))
        again = self.call("POST", "/auth/reauthenticate", {"password": personas.PASSWORD}, token=self.token)
        self.assertEqual(again.status_code, 204)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.reauthenticated").exists())
        odd = self.call("POST", "/me/exports", {"format": "docx"}, token=self.token)
        self.assertIn("format", self.field_errors(self.assertProblem(odd, 422, "invalid-input")))
        self.assertFalse(Export.objects.exists())
        self.assertEqual(self.call("POST", "/me/exports", {"format": "html"}, token=self.token).status_code, 202)

    def test_it_shows_what_erasure_would_remove_and_what_the_law_keeps(self) -> None:
        plan = self.call("GET", "/me/erasure", token=self.token, language="th").json()
        stores = {row["store"]: row["rows"] for row in plan["erased"]}
        self.assertEqual(stores.get("accounts.AccountEmail"), 1)
        self.assertGreaterEqual(plan["keys_destroyed"], 1)
        for kept in plan["kept_by_law"]:
            self.assertTrue(kept["law"] and kept["label"])
        self.assertFalse(RightsRequest.objects.exists())  # a dry run

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_closes_my_account_as_an_erasure_request_r3(self) -> None:
        unticked = self.call("POST", "/me/account/close", {"confirm": False}, token=self.token)
        self.assertIn("confirm", self.field_errors(self.assertProblem(unticked, 422, "invalid-input")))
        self.make_old()
        stale = self.call("POST", "/me/account/close", {"confirm": True}, token=self.token)
        self.assertProblem(stale, 403, "reauthentication-required")
        self.assertFalse(RightsRequest.objects.exists())
        self.call("POST", "/auth/reauthenticate", {"password": personas.PASSWORD}, token=self.token)
        with self.captureOnCommitCallbacks(execute=True):
            closed = self.call("POST", "/me/account/close", {"confirm": True}, token=self.token)
        self.assertEqual(closed.status_code, 202, closed.content)
        self.assertEqual(closed.json()["type"], RequestType.ERASURE)
        case = RightsRequest.objects.get()
        self.assertEqual(case.status, CaseStatus.COMPLETED)
        self.assertProblem(self.call("GET", "/me", token=self.token), 401, "unauthenticated")
        login = self.call("POST", "/auth/login", {"username": "malee", "password": personas.PASSWORD})
        self.assertProblem(login, 401, "unauthenticated")

    def test_it_corrects_my_phone_audited_and_refuses_what_needs_a_request_r3(self) -> None:
        service = builders.certificate(builders.agency())
        registration = builders.registration(
            service, self.user, phone="0812345678", address="1 ถนนสีหบุรานุกิจ", national_id="3100600445635"
        )
        listed = self.call("GET", "/me/corrections", token=self.token).json()["items"]
        self.assertEqual({item["category"] for item in listed}, {"phone", "address"})
        (phone,) = [item for item in listed if item["field"] == "phone"]
        self.assertEqual(phone["value"], "0812345678")
        target = {key: phone[key] for key in ("store", "row", "field")}
        national_id = {**target, "field": "national_id", "value": "1"}
        refused = self.call("PATCH", "/me/corrections", {"changes": [national_id]}, token=self.token)
        self.assertIn("changes/0", self.field_errors(self.assertProblem(refused, 422, "invalid-input")))
        too_long = self.call(
            "PATCH", "/me/corrections", {"changes": [{**target, "value": "9" * 501}]}, token=self.token
        )
        self.assertProblem(too_long, 422, "invalid-input")
        corrected = self.call(
            "PATCH", "/me/corrections", {"changes": [{**target, "value": "0899999999"}]}, token=self.token
        )
        self.assertEqual(corrected.status_code, 200, corrected.content)
        self.assertIn("0899999999", [item["value"] for item in corrected.json()["items"]])
        registration.refresh_from_db()
        self.assertEqual(Opener.for_subject(registration.subject_id).open(registration.phone), "0899999999")
        (entry,) = AuditEntry.objects.filter(action="rights.rectify")
        self.assertEqual(entry.field_names, ["phone"])
