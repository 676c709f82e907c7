import pytest

from raksa.consent.cookies import CHOICE_COOKIE, VISITOR_COOKIE
from raksa.core import demo
from raksa.testing.browser import chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]


def names(page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def test_it_sets_no_optional_cookie_before_each_choice_in_chromium_k1(live_server) -> None:
    demo.load_organisations()
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/")
        assert names(page) == set(), "no cookie at all before the choice"
        banner = page.get_by_role("region", name="คุกกี้บนเว็บไซต์นี้")
        buttons = [banner.get_by_role("button", name="ยอมรับทั้งหมด"), banner.get_by_role("button", name="ปฏิเสธทั้งหมด")]
        choose = banner.get_by_role("link", name="เลือกเอง")
        boxes = [element.bounding_box() for element in [*buttons, choose]]
        sizes = {(round(box["width"]), round(box["height"])) for box in boxes if box}
        assert len(sizes) == 1, f"accept, refuse and choose must look alike: {sizes}"
        screenshot(page, "cookie-banner-th")

        buttons[1].click()
        # With JavaScript the choice is sent in the background and the banner goes away.
        banner.wait_for(state="detached")
        assert page.url == f"{live_server.url}/th/"
        assert CHOICE_COOKIE in names(page)
        assert names(page) <= {CHOICE_COOKIE, "messages"}, "after a refusal, only necessary cookies"
        assert page.get_by_role("region", name="คุกกี้บนเว็บไซต์นี้").count() == 0

        # The choice can be changed from the footer of any page.
        page.goto(f"{live_server.url}/th/contact/")
        page.get_by_role("contentinfo").get_by_role("link", name="การตั้งค่าคุกกี้").click()
        page.get_by_label("อนุญาต: สถิติการใช้งาน").check()
        page.get_by_role("button", name="บันทึกการเลือก").click()
        page.wait_for_load_state()
        assert VISITOR_COOKIE in names(page)

        page.get_by_role("button", name="ปฏิเสธทั้งหมด").click()
        page.wait_for_load_state()
        assert VISITOR_COOKIE not in names(page)
        assert CHOICE_COOKIE in names(page)


def test_it_treats_global_privacy_control_as_refusal_in_chromium_k1(live_server) -> None:
    with chromium_page() as (page, _requests):
        page.context.set_extra_http_headers({"Sec-GPC": "1"})
        page.goto(f"{live_server.url}/en/")
        assert page.get_by_role("region", name="Cookies on this site").count() == 0
        assert names(page) == set()


def test_it_works_without_javascript_too_k1(live_server) -> None:
    with chromium_page() as (page, _requests):
        page.context.route("**/*.js", lambda route: route.abort())
        page.goto(f"{live_server.url}/en/contact/")
        page.get_by_role("button", name="Accept all").click()
        page.wait_for_url(f"{live_server.url}/en/contact/")
        assert {CHOICE_COOKIE, VISITOR_COOKIE} <= names(page)
        assert page.get_by_role("region", name="Cookies on this site").count() == 0
