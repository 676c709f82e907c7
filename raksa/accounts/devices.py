"""A short, human summary of a user agent for the sessions page. The raw string is never stored."""

import re
from dataclasses import dataclass

from django.utils.translation import pgettext_lazy

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = [
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/")),
]
_PLATFORMS = [
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Macintosh|Mac OS X")),
    ("Linux", re.compile(r"Linux|X11")),
]
DEVICE_LABELS = {
    "phone": pgettext_lazy("device", "phone"),
    "tablet": pgettext_lazy("device", "tablet"),
    "computer": pgettext_lazy("device", "computer"),
    "": pgettext_lazy("device", "unknown device"),
}


@dataclass(frozen=True)
class Device:
    browser: str
    platform: str
    kind: str


def describe(user_agent: str) -> Device:
    browser = next((f"{name} {m.group(1)}" for name, pattern in _BROWSERS if (m := pattern.search(user_agent))), "")
    platform = next((name for name, pattern in _PLATFORMS if pattern.search(user_agent)), "")
    if not user_agent:
        kind = ""
    elif "iPad" in user_agent or "Tablet" in user_agent:
        kind = "tablet"
    elif "Mobi" in user_agent:
        kind = "phone"
    else:
        kind = "computer"
    return Device(browser=browser[:60], platform=platform, kind=kind)
