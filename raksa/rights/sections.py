"""Sections other apps add to the person's My data page, after the stores (e.g. the disclosure ledger).

An app registers, from its AppConfig.ready, a function that renders its section for one person;
the page shows each in the order registered. The rights app needs no code of the other app.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from raksa.subjects.models import Subject

# (request, the person) -> the section's HTML, rendered from the registering app's own template.
type Section = Callable[[HttpRequest, Subject], SafeString]
_SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    if section not in _SECTIONS:
        _SECTIONS.append(section)


def render_sections(request: HttpRequest, subject: Subject) -> list[SafeString]:
    return [section(request, subject) for section in _SECTIONS]
