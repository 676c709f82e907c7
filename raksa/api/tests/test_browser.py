"""The interactive API documentation in Debian's Chromium: drawn from this site only, under its strict CSP."""

from urllib.parse import urlsplit

import pytest

from raksa.testing.browser import chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_it_draws_the_api_documentation_from_its_own_origin_under_the_sites_csp(live_server) -> None:
    with chromium_page(locale="en-GB") as (page, requests):
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        response = page.goto(f"{live_server.url}/api/v1/docs")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.get_by_text("/api/v1/auth/login").first.wait_for()
        assert page.locator(".opblock").count() >= 20
        screenshot(page, "api-docs")
    assert problems == [], f"console errors (a CSP violation?): {problems}"
    origin = urlsplit(live_server.url).netloc
    foreign = [url for url in requests if urlsplit(url).netloc != origin]
    assert foreign == [], f"requests to other origins: {foreign}"
