"""Capture: one spool line per request, written before the response leaves (C2, P2).

The middleware sits first in MIDDLEWARE so that it times the whole stack and sees the final status.
It does the least it can on the request path: no database, no header parsing (the browser string is
parsed at ingest), one redaction pattern, one write. The query string is dropped except an
allow-list, and routes carrying secrets are cut (raksa.accesslog.redaction).
"""

from collections.abc import Callable
from time import time_ns

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from raksa.accesslog import spool
from raksa.accesslog.redaction import clean_address, clean_referrer
from raksa.core.clients import client_address


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.writer = spool.writer()
        self.skip_prefixes = tuple(settings.RAKSA_ACCESSLOG_SKIP_PREFIXES)
        self.session_cookie = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        start = time_ns()
        response = self.get_response(request)
        path = request.path
        if self.skip_prefixes and path.startswith(self.skip_prefixes):
            return response
        meta = request.META
        host = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
        query = meta.get("QUERY_STRING", "")
        referrer = meta.get("HTTP_REFERER", "")
        size = response.get("Content-Length") or 0 if response.streaming else len(response.content)  # type: ignore[attr-defined]
        line = (
            f"{start // 1_000_000}\t{(time_ns() - start) // 1000}\t{request.method}\t{response.status_code}\t{size}\t"
            f"{client_address(meta)}\t{host}\t{clean_address(path, query)}\t"
            f"{clean_referrer(referrer, host) if referrer else ''}\t{meta.get('HTTP_USER_AGENT', '')}\t"
            f"{self._subject_id(request)}\t{getattr(request, 'request_id', '')}"
        )
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != 11:
            line = self._escaped(request, start, response, size)
        self.writer.write(line)
        return response

    def _subject_id(self, request: HttpRequest) -> str:
        lazy = request.__dict__.get("user")
        if lazy is None:
            return ""
        user = getattr(lazy, "_wrapped", lazy)
        if user is empty:
            # Nobody looked at the account during the request; a visitor without a session has none.
            if self.session_cookie not in request.COOKIES:
                return ""
            user = request.user
        subject_id = getattr(user, "subject_id", None) if user.is_authenticated else None
        return str(subject_id) if subject_id else ""

    def _escaped(self, request: HttpRequest, start: int, response: HttpResponseBase, size: object) -> str:
        """The slow path, for the rare request whose values hold tabs, newlines or backslashes."""
        meta = request.META
        host = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
        referrer = meta.get("HTTP_REFERER", "")
        values = (
            str(start // 1_000_000),
            str((time_ns() - start) // 1000),
            request.method or "",
            str(response.status_code),
            str(size),
            client_address(meta),
            host,
            clean_address(request.path, meta.get("QUERY_STRING", "")),
            clean_referrer(referrer, host) if referrer else "",
            meta.get("HTTP_USER_AGENT", ""),
            self._subject_id(request),
            str(getattr(request, "request_id", "")),
        )
        return "\t".join(map(spool.escape, values))
