"""The interactive documentation page: its settings are a JSON data block that nothing can break out of."""

import json
import re

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, TestCase

from raksa.api.api import api
from raksa.api.docs import SiteSwagger

BREAKOUT = "</script><script>alert(1)</script>"


class DocumentationPageTests(TestCase):
    def test_it_writes_the_swagger_settings_as_escaped_json_s1(self) -> None:
        request = RequestFactory().get("/api/v1/docs")
        request.user = AnonymousUser()
        page = SiteSwagger(settings={"title": BREAKOUT}).render_page(request, api)
        body = page.content.decode()
        self.assertNotIn(BREAKOUT, body)
        block = re.search(r'<script id="swagger-settings" type="application/json">(.*?)</script>', body, re.S)
        assert block is not None, body
        self.assertEqual(json.loads(block[1])["title"], BREAKOUT)

    def test_it_answers_405_to_a_post_on_the_documentation_and_its_schema(self) -> None:
        for path in ("/api/v1/docs", "/api/v1/openapi.json"):
            with self.subTest(path):
                self.assertEqual(self.client.post(path, secure=True).status_code, 405)
