"""A test client that speaks JSON to /api/v1/ with a bearer token and a language."""

import json
from typing import Any

from django.test import Client, TestCase

from raksa.accounts.models import User
from raksa.testing import accounts as personas

API = "/api/v1"


class ApiTestCase(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.policy = personas.platform_policy()
        self.api = Client()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        language: str = "en",
        raw: str | bytes | None = None,
        client: Client | None = None,
    ) -> Any:
        headers = {"Accept-Language": language}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        send = getattr(client or self.api, method.lower())
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return send(f"{API}{path}", **kwargs)

    def token_for(self, user: User, password: str = personas.PASSWORD) -> str:
        response = self.call("POST", "/auth/login", {"username": user.username, "password": password})
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["token"]

    def assertProblem(self, response: Any, status: int, kind: str) -> dict:  # noqa: N802  (unittest's style)
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        body = response.json()
        self.assertEqual(body["type"], f"urn:raksa:problem:{kind}")
        self.assertEqual(body["status"], status)
        self.assertTrue(body["title"])
        return body

    def field_errors(self, body: dict) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for error in body.get("errors", []):
            found.setdefault(error["field"], []).append(error["detail"])
        return found
