"""Every kind of bad input and refusal answers an RFC 9457 problem document, in Thai or English."""

import json
from typing import Any

from django.test import override_settings

from raksa.accounts.models import User
from raksa.api import throttling
from raksa.api.models import RecentRequests
from raksa.api.tests.client import API, ApiTestCase
from raksa.testing import accounts as personas


class ProblemTests(ApiTestCase):
    def register(self, body: object = None, **kwargs: Any) -> Any:
        return self.call("POST", "/auth/register", body, **kwargs)

    def test_it_answers_malformed_json_with_400(self) -> None:
        self.assertProblem(self.register(raw="{not json"), 400, "malformed-request")

    def test_it_names_unknown_fields_and_wrong_types(self) -> None:
        body = {"username": 12, "email": "a@example.org", "password": ["x"], "accepted_policy_version": "one", "x": 1}
        problem = self.assertProblem(self.register(body), 422, "invalid-input")
        self.assertEqual(set(self.field_errors(problem)), {"username", "password", "accepted_policy_version", "x"})
        self.assertFalse(User.objects.exists())

    def test_it_refuses_a_body_that_is_not_an_object(self) -> None:
        self.assertProblem(self.register([1, 2]), 422, "invalid-input")

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=200)
    def test_it_refuses_an_oversized_body_with_413(self) -> None:
        body = {"username": "x" * 100, "email": "a@example.org", "password": "p" * 300, "accepted_policy_version": 1}
        self.assertProblem(self.register(body), 413, "body-too-large")
        self.assertFalse(User.objects.exists())

    def test_it_answers_404_and_405_as_problems(self) -> None:
        self.assertProblem(self.call("GET", "/no/such/thing"), 404, "not-found")
        refused = self.assertProblem(self.call("DELETE", "/policy"), 405, "method-not-allowed")
        self.assertTrue(refused["title"])

    def test_it_answers_in_thai_by_accept_language(self) -> None:
        thai = self.assertProblem(self.call("GET", "/me", language="th"), 401, "unauthenticated")
        english = self.assertProblem(self.call("GET", "/me", language="en"), 401, "unauthenticated")
        self.assertEqual(english["title"], "You need to log in.")
        self.assertEqual(thai["title"], "กรุณาเข้าสู่ระบบ")
        body = {"username": "malee", "email": "a@example.org", "password": "x", "accepted_policy_version": 1, "y": 1}
        problem = self.assertProblem(self.register(body, language="th"), 422, "invalid-input")
        self.assertEqual(self.field_errors(problem)["y"], ["ไม่รับช่องข้อมูลนี้"])

    @override_settings(RAKSA_API_REQUESTS_PER_MINUTE=2)
    def test_it_limits_the_rate_with_429_and_retry_after(self) -> None:
        user = personas.citizen("malee")
        token = self.token_for(user)
        self.assertEqual(self.call("GET", "/me", token=token).status_code, 200)
        self.assertEqual(self.call("GET", "/me", token=token).status_code, 200)
        refused = self.call("GET", "/me", token=token)
        self.assertProblem(refused, 429, "too-many-requests")
        self.assertTrue(1 <= int(refused["Retry-After"]) <= 60)
        # Kept in the database, so every server process sees the same window; no address stored.
        # The log-in, counted by address in both limits; the two admitted by account (not the refused one).
        self.assertEqual(sorted(len(row.times) for row in RecentRequests.objects.all()), [1, 1, 2])
        self.assertEqual(self.call("GET", "/policy").status_code, 200)  # another client

    def test_it_never_lets_more_than_the_limit_through_in_any_60_seconds(self) -> None:
        # Two just before a minute's boundary and none let through just after it (a fixed window would
        # have let two more through); one more once the first has left the window.
        start = 60 * 29_000_000
        self.assertEqual(throttling.admit("b", limit=2, now=start + 59.0), 0.0)
        self.assertEqual(throttling.admit("b", limit=2, now=start + 59.5), 0.0)
        self.assertAlmostEqual(throttling.admit("b", limit=2, now=start + 60.1), 58.9, places=3)
        self.assertAlmostEqual(throttling.admit("b", limit=2, now=start + 118.9), 0.1, places=3)
        self.assertEqual(throttling.admit("b", limit=2, now=start + 119.1), 0.0)
        self.assertAlmostEqual(throttling.admit("b", limit=2, now=start + 119.2), 0.3, places=3)

    @override_settings(RAKSA_API_ACCOUNT_REQUESTS_PER_MINUTE=1)
    def test_it_limits_account_endpoints_per_address_more_tightly(self) -> None:
        self.call("POST", "/auth/password/forgot", {"email": "a@example.org"})
        refused = self.call("POST", "/auth/login", {"username": "malee", "password": "x"})
        self.assertProblem(refused, 429, "too-many-requests")
        self.assertIn("Retry-After", refused)


class DocumentTests(ApiTestCase):
    def test_it_serves_an_openapi_document_with_each_key_once(self) -> None:
        # A key given twice (200 and "200") breaks the documentation page's parser, not json.loads.
        def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [key for key, _value in pairs]
            self.assertEqual(len(keys), len(set(keys)), keys)
            return dict(pairs)

        document = self.api.get(f"{API}/openapi.json").content
        self.assertEqual(json.loads(document, object_pairs_hook=unique)["openapi"], "3.1.0")
