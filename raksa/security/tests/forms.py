"""The forms of the site's pages, read from the rendered HTML, and filled in as a person would."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

from django.utils import timezone

from raksa.security.tests.world import national_id

TEXT_TYPES = frozenset({"text", "search", "textarea", "url"})
# Values a person would type where the site checks the format: the payload goes everywhere else.
VALID_BY_NAME = {
    "national_id": national_id("110170000002"),
    "phone": "0812345678",
    "address_postal_code": "10510",
    "address_province": "กรุงเทพมหานคร",
    "address_district": "มีนบุรี",
    "address_subdistrict": "มีนบุรี",
    "birth_date": "2500-01-01",
    "ip": "192.0.2.1",
}
VALID_BY_TYPE = {
    "email": "fuzz@example.org",
    "tel": "0812345678",
    "number": "1",
    "date": timezone.localdate().isoformat(),
    "datetime-local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    "password": "correct horse battery staple",
    "file": "",
}


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, default value
    options: dict[str, list[str]] = field(default_factory=dict)

    def filled(self, payload: str) -> dict[str, str]:
        """Every text field holds `payload`; the rest hold what the site expects there."""
        data: dict[str, str] = {}
        for name, kind, value in self.fields:
            if kind in {"hidden", "submit"}:
                data.setdefault(name, value)
            elif kind in {"checkbox", "radio"}:
                data.setdefault(name, value or "on")
            elif kind == "select":
                choices = [option for option in self.options.get(name, []) if option]
                data[name] = choices[0] if choices else ""
            elif name in VALID_BY_NAME:
                data[name] = VALID_BY_NAME[name]
            elif kind in TEXT_TYPES:
                data[name] = payload
            else:
                data[name] = VALID_BY_TYPE.get(kind, payload)
        return data

    @property
    def text_fields(self) -> list[str]:
        return [name for name, kind, _value in self.fields if kind in TEXT_TYPES and name not in VALID_BY_NAME]


class _FormReader(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_url, values.get("action") or self.page_url)
            self.forms.append(Form(action=action, method=(values.get("method") or "get").lower()))
            return
        if not self.forms or "name" not in values:
            if tag == "option" and self._select is not None and self.forms:
                self.forms[-1].options[self._select].append(values.get("value", ""))
            return
        form = self.forms[-1]
        if tag == "input":
            form.fields.append((values["name"], values.get("type", "text").lower(), values.get("value", "")))
        elif tag == "textarea":
            form.fields.append((values["name"], "textarea", ""))
        elif tag == "select":
            self._select = values["name"]
            form.options[self._select] = []
            form.fields.append((values["name"], "select", ""))
        elif tag == "button" and values.get("type", "submit") == "submit":
            form.fields.append((values["name"], "submit", values.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_in(html: str, page_url: str) -> list[Form]:
    """The page's forms, GET (searches, filters) and POST alike."""
    reader = _FormReader(page_url)
    reader.feed(html)
    reader.close()
    return reader.forms
