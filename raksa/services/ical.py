"""iCalendar (RFC 5545) for activities: one event for a person's registration, and the public feed.

Written by hand: the format is small, and a feed of published activities carries no personal data.
"""

import datetime
from collections.abc import Iterable

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from raksa.services.models import Registration, Service

PRODUCT = "-//Raksa//Activities//TH"


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    folded, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            folded.append(current)
            current = " " + char
        else:
            current += char
    return [*folded, current]


def event_lines(service: Service, *, url: str = "", status: str = "CONFIRMED") -> list[str]:
    assert service.starts_at is not None
    assert service.ends_at is not None
    organiser = service.agency.contact_email or "no-reply@raksa.localhost"
    lines = [
        "BEGIN:VEVENT",
        f"UID:activity-{service.pk}@raksa",
        f"DTSTAMP:{_stamp(timezone.now())}",
        f"DTSTART:{_stamp(service.starts_at)}",
        f"DTEND:{_stamp(service.ends_at)}",
        f"SUMMARY:{_escape(service.title)}",
        f"LOCATION:{_escape(service.place)}",
        f"DESCRIPTION:{_escape(service.description)}",
        f"ORGANIZER;CN={_escape(service.agency.name)}:mailto:{organiser}",
        f"STATUS:{status}",
    ]
    if url:
        lines.append(f"URL:{url}")
    return [*lines, "END:VEVENT"]


def calendar(events: Iterable[list[str]], *, name: str = "", method: str = "PUBLISH") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN", f"METHOD:{method}"]
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(folded + "\r\n" for line in lines for folded in _fold(line))


def service_url(request: HttpRequest, service: Service) -> str:
    return request.build_absolute_uri(reverse("services:detail", args=[service.slug]))


def registration_calendar(registration: Registration, *, url: str) -> str | None:
    """The person's activity as a calendar file, or None when it holds no seat (or is not an activity)."""
    if not registration.service.is_activity or not registration.holds_seat:
        return None
    return calendar([event_lines(registration.service, url=url)])
