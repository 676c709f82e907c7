"""The public site as a person meets it in Debian's Chromium: accessible, private, usable by keyboard and zoomed."""

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from raksa.content import actions
from raksa.content.tests.fixtures import camera_jpeg, public_page_types, publish_news
from raksa.core import demo
from raksa.testing.browser import chromium_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def site(settings: object, tmp_path: Path) -> dict[str, str]:
    """Demo organisations, news with pictures and an external video: one address of each public page type."""
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    demo.load_organisations()
    news = [publish_news(number) for number in range(4)]
    video = actions.publish_video(
        title_th="วิดีโอแนะนำบริการ",
        title_en="Our e-services",
        embed_url="https://player.example/embed/intro",
        published_at=timezone.now(),
        poster=actions.PictureUpload(camera_jpeg((640, 360)), alt_th="ภาพปกวิดีโอ", alt_en="Video cover"),
    )
    actions.upsert_link(url="https://www.example.go.th/", title_th="เว็บไซต์หน่วยงาน", title_en="Agency website")
    return public_page_types(news_pk=news[0].pk, video_pk=video.pk)


def _require_axe() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm ci --ignore-scripts` (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def _violations(page: "Page", axe_source: str) -> list[str]:
    # Evaluated through the DevTools protocol, not as a <script>: the page's strict CSP stays as it is.
    page.evaluate(axe_source)
    result = page.evaluate("options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{violation['id']}: {violation['help']} at {[node['target'] for node in violation['nodes']]}"
        for violation in result["violations"]
    ]


def test_it_has_no_accessibility_violations_on_any_public_page(live_server, site: dict[str, str]) -> None:
    axe_source = _require_axe()
    found: dict[str, list[str]] = {}
    with chromium_page() as (page, _requests):
        for language in ("th", "en"):
            for page_type, path in site.items():
                page.goto(f"{live_server.url}/{language}{path}")
                violations = _violations(page, axe_source)
                if violations:
                    found[f"{language} {page_type}"] = violations
        page.goto(f"{live_server.url}/th/search/?q=ข่าว")
        if violations := _violations(page, axe_source):
            found["th search results"] = violations
        # axe is really looking: a picture without its description is reported.
        page.goto(f"{live_server.url}/th/")
        page.evaluate("document.querySelector('.card img').removeAttribute('alt')")
        assert any(violation.startswith("image-alt") for violation in _violations(page, axe_source))
    assert found == {}


def test_it_requests_nothing_from_another_origin_on_any_public_page(live_server, site: dict[str, str]) -> None:
    origin = urlsplit(live_server.url).netloc
    with chromium_page() as (page, requests):
        for language in ("th", "en"):
            for path in site.values():
                page.goto(f"{live_server.url}/{language}{path}")
                page.wait_for_load_state("networkidle")
                # Scrolled to the end so that lazy pictures load too.
                page.mouse.wheel(0, 20000)
                page.wait_for_load_state("networkidle")
        foreign = sorted({url for url in requests if urlsplit(url).netloc != origin})
        assert foreign == []
        assert any("/media/content/thumbnails/" in url for url in requests), "the gallery's pictures were loaded"

        # The external video player is requested only once the visitor asks for it.
        page.goto(f"{live_server.url}/th{site['video']}")
        assert not any("player.example" in url for url in requests)
        page.get_by_role("link", name="โหลดเครื่องเล่นและเล่นวิดีโอ").click()
        page.wait_for_load_state("domcontentloaded")
        assert page.locator("iframe.player").get_attribute("src") == "https://player.example/embed/intro"


def _tab_to(page: "Page", selector: str, *, limit: int = 60) -> int:
    """Presses Tab until the element matching `selector` has focus; the number of presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


def _focus_is_visible(page: "Page") -> bool:
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
    )
    return style[0] != "none" and style[1] != "0px"


def test_it_can_be_used_with_the_keyboard_alone(live_server, site: dict[str, str]) -> None:
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/")
        # To the menu, and into the news.
        _tab_to(page, '.site-nav a[href="/th/news/"]')
        assert _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/th/news/")
        # Switch the language: the same page in English.
        _tab_to(page, ".language-switch")
        assert _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/en/news/")
        # Open a news item.
        _tab_to(page, ".card h3 a")
        assert _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/en{site['news item']}")
        assert page.get_by_role("heading", level=1).inner_text() == "Test news number 0"
        # Reach the footer's policy links.
        _tab_to(page, '.site-footer a[href="/en/website-policy/"]')
        assert _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/en/website-policy/")


def test_it_stays_readable_at_200_percent_zoom(live_server, site: dict[str, str]) -> None:
    with chromium_page() as (page, _requests):
        # 200% zoom of a 1280 by 900 window leaves 640 by 450 CSS pixels, as WCAG 1.4.4 measures it.
        page.set_viewport_size({"width": 640, "height": 450})
        overflowing = {}
        for page_type, path in site.items():
            page.goto(f"{live_server.url}/th{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 640:
                overflowing[page_type] = width
        assert overflowing == {}, "pages that need scrolling sideways"
        page.goto(f"{live_server.url}/th/")
        assert page.get_by_role("link", name="ข่าวสาร").first.is_visible()
        screenshot(page, "content-home-th-zoom-200")


def test_it_shows_the_home_page_in_thai_and_english(live_server, site: dict[str, str]) -> None:
    with chromium_page() as (page, _requests):
        for language in ("th", "en"):
            page.goto(f"{live_server.url}/{language}/")
            page.evaluate("document.fonts.ready")
            cards = page.locator(".card-grid .card")
            assert cards.count() == 5  # four news items and the video
            first = page.locator(".card img").first
            assert page.evaluate("img => img.complete && img.naturalWidth > 0", first.element_handle())
            screenshot(page, f"content-home-{language}")


def test_it_shows_the_mourning_ribbon_and_grey_when_switched_on(live_server, site: dict[str, str]) -> None:
    actions.set_appearance(mourning_ribbon=True, grey_theme=True)
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/")
        ribbon = page.get_by_role("img", name="ไว้ทุกข์")
        assert ribbon.is_visible()
        assert page.evaluate("getComputedStyle(document.documentElement).filter") == "grayscale(1)"
        screenshot(page, "content-home-th-mourning")
