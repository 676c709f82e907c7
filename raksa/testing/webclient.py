"""A small HTTP client for tests against a real server process: cookies, CSRF and forms as a browser
sends them, through the reverse proxy's headers (X-Forwarded-Proto: https), so production settings
(secure `__Host-` cookies, HTTPS-only CSRF checks) apply as they do behind nginx.
"""

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit


@dataclass
class Response:
    path: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class FormError(AssertionError):
    pass


class _Forms(HTMLParser):
    """Every form's action and its fields' initial values, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), []))
        if not self.forms or ("name" not in attributes and tag in {"input", "select", "textarea"}):
            return
        fields = self.forms[-1][1]
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            if kind not in {"submit", "button", "file"}:
                fields.append((attributes["name"], attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._select_value = attributes["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in attributes:
                self._select_value = attributes.get("value", "")
        elif tag == "textarea":
            self._textarea = attributes["name"]
            fields.append((attributes["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self.forms:
            self.forms[-1][1].append((self._select, self._select_value or ""))
            self._select = None
        if tag == "textarea":
            self._textarea = None


@dataclass
class WebClient:
    host: str
    port: int
    timeout: float = 15
    cookies: dict[str, str] = field(default_factory=dict)
    # X-Request-ID of every response received: the access log must hold each one.
    answered: list[str] = field(default_factory=list)
    # Told of every request (for a load tool): method, path, status or None, milliseconds, bytes, error.
    observer: Callable[[str, str, int | None, float, int, Exception | None], None] | None = None

    def request(self, method: str, path: str, data: dict[str, str] | list[tuple[str, str]] | None = None) -> Response:
        origin = f"https://{self.host}:{self.port}"
        headers = {"Host": f"{self.host}:{self.port}", "X-Forwarded-Proto": "https", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"{origin}{path}"
            headers["Origin"] = origin
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            content = raw.read()
            text = content.decode("utf-8", "replace")
            if self.observer is not None:
                failure = http.client.HTTPException(f"{raw.status}") if raw.status >= 500 else None
                self.observer(method, path, raw.status, (time.perf_counter() - started) * 1000, len(content), failure)
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    self._keep(value)
            self.answered.append(raw.getheader("X-Request-ID", ""))
            return Response(path, raw.status, {name.lower(): value for name, value in raw.getheaders()}, text)
        except OSError as error:
            if self.observer is not None:
                self.observer(method, path, None, (time.perf_counter() - started) * 1000, 0, error)
            raise
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> Response:
        return self.request("POST", path, data)

    def form(self, page: Response, action: str, values: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """The fields of the first form on `page` posting to `action`, with `values` filled in."""
        values = values or {}
        parser = _Forms()
        parser.feed(page.body)
        for form_action, fields in parser.forms:
            if (urlsplit(form_action).path or page.path) == action:
                kept = [(name, value) for name, value in fields if name not in values]
                return kept + list(values.items())
        raise FormError(f"no form posting to {action} on the page ({page.status})")

    def log_in(self, username: str, password: str, language: str = "en") -> None:
        page = self.get(f"/{language}/accounts/login/")
        action = f"/{language}/accounts/login/"
        answer = self.post(action, self.form(page, action, {"identifier": username, "password": password}))
        if answer.status != 302:
            raise AssertionError(f"logging in as {username} answered {answer.status}")

    def _keep(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower():
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value
