from urllib.parse import urlsplit

import pytest

from raksa.core import demo
from raksa.testing.browser import chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_it_renders_thai_then_english_from_its_own_origin_only(live_server) -> None:
    demo.load_organisations()
    origin = urlsplit(live_server.url).netloc
    with chromium_page() as (page, requests):
        page.goto(f"{live_server.url}/")
        assert page.url == f"{live_server.url}/th/"
        assert page.locator("html").get_attribute("lang") == "th"
        assert page.get_by_role("heading", level=1).inner_text() == "ยินดีต้อนรับสู่บริการอิเล็กทรอนิกส์"
        # The Thai web font is served by the site and used: Thai never falls back to boxes.
        page.evaluate("document.fonts.ready")
        assert page.evaluate("document.fonts.check('16px Sarabun', 'ก')")
        screenshot(page, "home-th")

        page.get_by_role("link", name="English").click()
        assert page.url == f"{live_server.url}/en/"
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text() == "Welcome to our e-services"
        screenshot(page, "home-en")

        page.goto(f"{live_server.url}/en/contact/")
        page.get_by_role("link", name="ภาษาไทย").click()
        assert page.url == f"{live_server.url}/th/contact/"

        assert page.context.cookies() == [], "switching language must set no cookie"
        foreign = [url for url in requests if urlsplit(url).netloc != origin]
        assert foreign == [], f"requests to other origins: {foreign}"
        assert any(url.endswith("Sarabun-Regular.ttf") for url in requests)


def test_it_lets_a_keyboard_user_skip_to_the_content(live_server) -> None:
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused == "ข้ามไปยังเนื้อหาหลัก"
        assert page.evaluate("getComputedStyle(document.activeElement).top") == "0px"
        page.keyboard.press("Enter")
        page.wait_for_url("**#main")  # following the link is a navigation: wait for it, not race it
