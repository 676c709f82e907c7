"""The home page is made of sections that apps contribute (news gallery, videos, upcoming activities…).

An app registers its sections in its AppConfig.ready(); the core never imports a feature app.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class HomeSection:
    template: str
    context: Callable[[HttpRequest], dict]
    # Lower comes first; the welcome and the promises sit at 0 and 1000.
    order: int = 500


SECTIONS: list[HomeSection] = []


def register(section: HomeSection) -> None:
    if section not in SECTIONS:
        SECTIONS.append(section)


def sections(request: HttpRequest) -> list[dict]:
    return [
        {"template": section.template, **section.context(request)}
        for section in sorted(SECTIONS, key=lambda section: section.order)
    ]
