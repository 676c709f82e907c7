"""Injection and XSS (S1): every form of the site and every API field, fuzzed, never answers 500 and
never renders what was typed as markup.

The forms are read from the pages the sweep renders for each reader, so a new form is fuzzed without
editing this file; the API's fields come from its OpenAPI description. Hypothesis draws the payloads
(a bounded number of examples, so CI stays fast) from SQL, HTML and script injections, Thai text,
emoji and control characters; a 1 MB string is always among them.
"""

import json
from urllib.parse import urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from raksa.security.tests import world
from raksa.security.tests.forms import Form, forms_in
from raksa.security.tests.sweep import exchanges

MARK = "xq7fuzz"
SCRIPT = f"<script>alert('{MARK}')</script>"
ATTRIBUTE = f'"><img src=x onerror=alert("{MARK}")>'
INJECTIONS = [
    SCRIPT,
    ATTRIBUTE,
    f"'; DROP TABLE accounts_user; -- {MARK}",
    f"' OR '1'='1' -- {MARK}",
    f"{{{{ 7*7 }}}}{{% debug %}}{MARK}",
    f"javascript:alert('{MARK}')",
    f"สมชาย รักดี ทดสอบภาษาไทย {MARK} 😀👩‍👩‍👧",
    f"line one\r\nline two\u2028{MARK}\x00\x07\x1b[31m",
]
MEGABYTE = "ก" * (1024 * 1024 // 3)  # 1 MB of UTF-8
PAYLOADS = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(st.characters(codec="utf-8"), max_size=300).map(lambda text: f"{text}{SCRIPT}"),
)
# Who fills in forms: visitors, citizens and each kind of staff console.
WRITERS = ("anonymous", "citizen_b", "officer", "dpo", "investigator", "contractor")
# Forms that would end the writer's session or account, which the rest of the run still needs.
LEAVE_ALONE = ("/accounts/logout/", "/me/account/close/", "/two-factor/off/", "/accounts/password/")


class InjectionTests(TestCase):
    databases = "__all__"
    site: world.World
    forms: list[tuple[str, Form]]
    api_operations: list[tuple[str, str, dict]]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.site = world.build()
        found: dict[tuple[str, str, str], tuple[str, Form]] = {}
        for actor in WRITERS:
            for outcome, response, body in exchanges(cls.site, actor, methods=("GET",)):
                if outcome.status == 200 and response.get("Content-Type", "").startswith("text/html"):
                    for form in forms_in(body, f"https://testserver{outcome.url}"):
                        if form.text_fields and not any(part in form.action for part in LEAVE_ALONE):
                            found.setdefault((actor, form.method, urlsplit(form.action).path), (actor, form))
        cls.forms = list(found.values())
        cls.api_operations = _api_operations(cls.site)

    def submit(self, actor: str, form: Form, payload: str) -> int:
        client = self.site.client_for(actor)
        path = urlsplit(form.action).path
        data = form.filled(payload)
        if form.method == "get":
            return client.get(path, data, secure=True).status_code
        return client.post(path, data, secure=True).status_code

    @settings(
        max_examples=4,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(payload=PAYLOADS)
    @example(payload=MEGABYTE)
    @example(payload=INJECTIONS[-1])
    def test_it_answers_every_form_without_a_server_error_s1(self, payload: str) -> None:
        self.assertGreater(len(self.forms), 15, "the sweep found the site's forms")
        errors = [
            f"{form.method.upper()} {form.action} as {actor}: {status}"
            for actor, form in self.forms
            if (status := self.submit(actor, form, payload)) >= 500
        ]
        self.assertEqual(errors, [], "\n".join(errors))

    @settings(max_examples=4, derandomize=True, deadline=None, database=None)
    @given(payload=PAYLOADS)
    @example(payload=MEGABYTE)
    def test_it_answers_every_api_field_without_a_server_error_s1(self, payload: str) -> None:
        self.assertGreater(len(self.api_operations), 3, "the OpenAPI description lists operations with bodies")
        client = self.site.client_for("citizen_b")
        errors = []
        for method, path, schema in self.api_operations:
            body = json.dumps(_instance(schema, payload))
            response = client.generic(method, path, body, content_type="application/json", secure=True)
            if response.status_code >= 500:
                errors.append(f"{method} {path}: {response.status_code}")
        self.assertEqual(errors, [], "\n".join(errors))

    def test_it_shows_every_stored_value_escaped_s1(self) -> None:
        for actor, form in self.forms:
            self.submit(actor, form, f"{SCRIPT} {ATTRIBUTE}")
        raw, escaped = [], 0
        for actor in (*WRITERS, "officer_other_agency"):
            for outcome, response, body in exchanges(self.site, actor, methods=("GET",)):
                # JSON (the API) and feeds carry text, not markup; browsers render HTML only as HTML.
                if not response.get("Content-Type", "").startswith("text/html"):
                    continue
                if SCRIPT in body or ATTRIBUTE in body:
                    raw.append(f"{outcome.url} as {actor}")
                escaped += body.count(f"&lt;script&gt;alert(&#x27;{MARK}&#x27;)&lt;/script&gt;")
        self.assertEqual(raw, [], "pages that render a stored value as markup:\n" + "\n".join(raw))
        self.assertGreater(escaped, 0, "some stored value is shown at all (else this test proves nothing)")


def _api_operations(site: world.World) -> list[tuple[str, str, dict]]:
    """The API's operations that take a JSON body, with their schema resolved, from its OpenAPI description."""
    client = site.client_for("anonymous")
    description = client.get("/api/v1/openapi.json", secure=True).json()
    components = description.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in description.get("paths", {}).items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            concrete = path.replace("{purpose}", "news_and_pr").replace("{slug}", "minburi")
            operations.append((method.upper(), concrete, _resolved(content["schema"], components)))
    return operations


def _resolved(schema: dict, components: dict) -> dict:
    """The schema with every $ref replaced by the component it names."""
    if "$ref" in schema:
        return _resolved(components[schema["$ref"].rsplit("/", 1)[1]], components)
    return {
        key: (
            _resolved(value, components)
            if isinstance(value, dict)
            else [_resolved(item, components) if isinstance(item, dict) else item for item in value]
            if isinstance(value, list)
            else value
        )
        for key, value in schema.items()
    }


def _instance(schema: dict, payload: str) -> object:
    """A JSON value of the schema's shape with `payload` in every string."""
    kind = schema.get("type")
    if "anyOf" in schema:
        return _instance(schema["anyOf"][0], payload)
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _instance(part, payload) for name, part in properties.items() if isinstance(part, dict)}
    if kind == "array":
        return [_instance(schema.get("items", {}), payload)]
    if kind == "boolean":
        return True
    if kind in {"integer", "number"}:
        return 1
    return payload
