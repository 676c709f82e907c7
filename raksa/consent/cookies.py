"""The cookie registry (K1): every cookie Raksa may set, and the visitor's choice about them.

The cookie page is generated from `COOKIES`, and `CookieGateMiddleware` drops from every response a
cookie that is not in the registry or whose category the visitor has not allowed, so that no cookie
that is not strictly necessary can be set before the choice, whatever code tries to set it.

The choice itself is a strictly necessary cookie: without it the site could not remember a refusal.
Browser-level signals (Global Privacy Control, Do Not Track) count as a refusal of everything that
is not necessary, and override a stored acceptance while the browser sends them.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language

CHOICE_COOKIE = "raksa_cookies"
CHOICE_MAX_AGE = 365 * 24 * 3600
# Bumped when a new optional category appears, so that everyone is asked again.
CHOICE_FORMAT = "1"


class CookieCategory(StrEnum):
    NECESSARY = "necessary"
    PREFERENCES = "preferences"
    STATISTICS = "statistics"


OPTIONAL_CATEGORIES = (CookieCategory.PREFERENCES, CookieCategory.STATISTICS)

CATEGORY_LABELS = {
    CookieCategory.NECESSARY: ("จำเป็นต่อการทำงานของเว็บไซต์", "Strictly necessary"),
    CookieCategory.PREFERENCES: ("การจดจำการตั้งค่า", "Preferences"),
    CookieCategory.STATISTICS: ("สถิติการใช้งาน", "Usage statistics"),
}
CATEGORY_DESCRIPTIONS = {
    CookieCategory.NECESSARY: (
        "คุกกี้ที่เว็บไซต์ขาดไม่ได้ เช่น การเข้าสู่ระบบ การป้องกันการปลอมแปลงคำขอ และการจดจำการเลือกคุกกี้ของท่าน "
        "จึงตั้งได้โดยไม่ต้องขอความยินยอม",
        "Cookies the site cannot work without: staying logged in, protection against forged requests, and "
        "remembering your cookie choice. They are set without asking.",
    ),
    CookieCategory.PREFERENCES: (
        "จดจำสิ่งที่ท่านเคยเห็นหรือเลือกไว้ เช่น ฉบับของนโยบายที่ท่านอ่านแล้ว เพื่อแจ้งเมื่อมีการเปลี่ยนแปลง",
        "Remember what you have seen or chosen, such as the policy version you last read, to tell you when it changes.",
    ),
    CookieCategory.STATISTICS: (
        "นับผู้เข้าชมที่กลับมาใช้งานด้วยรหัสสุ่มที่ไม่ระบุตัวตน เพื่อปรับปรุงคุณภาพบริการ",
        "Count returning visitors with a random identifier that says nothing about you, to improve the services.",
    ),
}


@dataclass(frozen=True)
class Cookie:
    name: str
    category: CookieCategory
    purpose_th: str
    purpose_en: str
    # None: deleted when the browser closes (a session cookie).
    max_age_seconds: int | None

    @property
    def days(self) -> int | None:
        return None if self.max_age_seconds is None else max(1, self.max_age_seconds // 86400)

    @property
    def necessary(self) -> bool:
        return self.category is CookieCategory.NECESSARY

    @property
    def purpose(self) -> str:
        return self.purpose_en if get_language() == "en" else self.purpose_th

    @property
    def category_label(self) -> str:
        th, en = CATEGORY_LABELS[self.category]
        return en if get_language() == "en" else th


VISITOR_COOKIE = "raksa_visitor"
POLICY_SEEN_COOKIE = "raksa_policy_seen"


def _registry() -> tuple[Cookie, ...]:
    return (
        Cookie(
            settings.SESSION_COOKIE_NAME,
            CookieCategory.NECESSARY,
            "รักษาการเข้าสู่ระบบของท่านระหว่างการใช้งาน",
            "keeps you logged in while you use the site",
            settings.SESSION_COOKIE_AGE if not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else None,
        ),
        Cookie(
            settings.CSRF_COOKIE_NAME,
            CookieCategory.NECESSARY,
            "ป้องกันไม่ให้เว็บไซต์อื่นส่งแบบฟอร์มแทนท่าน",
            "stops other sites from submitting forms in your name",
            settings.CSRF_COOKIE_AGE,
        ),
        Cookie(
            "messages",
            CookieCategory.NECESSARY,
            "แสดงข้อความยืนยันผลการทำรายการในหน้าถัดไป",
            "shows the confirmation of what you just did on the next page",
            None,
        ),
        Cookie(
            CHOICE_COOKIE,
            CookieCategory.NECESSARY,
            "จดจำการเลือกคุกกี้ของท่าน",
            "remembers your cookie choice",
            CHOICE_MAX_AGE,
        ),
        Cookie(
            POLICY_SEEN_COOKIE,
            CookieCategory.PREFERENCES,
            "จดจำฉบับของนโยบายคุ้มครองข้อมูลส่วนบุคคลที่ท่านเห็นล่าสุด เพื่อแสดงสรุปการเปลี่ยนแปลงเมื่อมีฉบับใหม่",
            "remembers the privacy policy version you last saw, to show a summary of changes when a new one is "
            "published",
            CHOICE_MAX_AGE,
        ),
        Cookie(
            VISITOR_COOKIE,
            CookieCategory.STATISTICS,
            "รหัสสุ่มสำหรับนับผู้เข้าชมที่กลับมา (ไม่เชื่อมโยงกับบัญชีผู้ใช้)",
            "a random identifier to count returning visitors (never linked to an account)",
            CHOICE_MAX_AGE,
        ),
    )


def registered_cookies() -> tuple[Cookie, ...]:
    """Every cookie the site may set (names follow the settings, e.g. `__Host-` in production)."""
    return _registry()


def registered_cookie(name: str) -> Cookie | None:
    return next((cookie for cookie in _registry() if cookie.name == name), None)


@dataclass(frozen=True)
class CookieChoice:
    """What a visitor allowed. `made` is False until they choose; `signal` when the browser refuses for them."""

    made: bool
    allowed: frozenset[CookieCategory]
    signal: bool = False

    def allows(self, category: CookieCategory) -> bool:
        return category is CookieCategory.NECESSARY or (not self.signal and category in self.allowed)

    @property
    def needs_asking(self) -> bool:
        return not self.made and not self.signal

    def serialise(self) -> str:
        allowed = ".".join(sorted(category.value for category in self.allowed))
        return f"{CHOICE_FORMAT}:{allowed}"


def browser_refuses(request: HttpRequest) -> bool:
    """Global Privacy Control (`Sec-GPC: 1`) or Do Not Track (`DNT: 1`)."""
    return request.headers.get("Sec-GPC") == "1" or request.headers.get("DNT") == "1"


def choice_from(request: HttpRequest) -> CookieChoice:
    signal = browser_refuses(request)
    stored = request.COOKIES.get(CHOICE_COOKIE, "")
    version, _sep, allowed = stored.partition(":")
    if version != CHOICE_FORMAT:
        return CookieChoice(made=False, allowed=frozenset(), signal=signal)
    categories = frozenset(c for c in OPTIONAL_CATEGORIES if c.value in allowed.split("."))
    return CookieChoice(made=True, allowed=categories, signal=signal)


def choice_of(allowed: set[CookieCategory]) -> CookieChoice:
    return CookieChoice(made=True, allowed=frozenset(allowed) & frozenset(OPTIONAL_CATEGORIES))
