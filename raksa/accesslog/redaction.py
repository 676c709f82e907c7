"""What the access log may keep of an address: routes that carry secrets cut short, queries allow-listed.

The registry of secret routes is the URLconf itself: a urls module that routes secrets (password
reset and e-mail confirmation links, download tokens) lists their URL names in `SECRET_ROUTES`:

    SECRET_ROUTES = ("accounts:confirm_email", "accounts:reset_link")

The access log keeps such a route's fixed prefix and replaces everything after it with `[redacted]`,
so a token never reaches the spool, the tables or a log line, whether the request resolved or not
(a mistyped link without its trailing slash is cut the same way).
"""

import logging
import re
from functools import cache, lru_cache
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RoutePattern

REDACTED = "[redacted]"
_LANGUAGE_PREFIX = r"(?:[a-z]{2,3}(?:-[a-z0-9]+)?/)?"


def secret_route_prefixes(urlconf: str | None = None) -> list[str]:
    """The fixed prefixes (after any language prefix, without the leading slash) of secret routes."""
    prefixes: list[str] = []
    _walk(get_resolver(urlconf), "", "", set(), prefixes)
    return sorted(set(prefixes))


def _walk(resolver: URLResolver, prefix: str, namespace: str, secret: set[str], out: list[str]) -> None:
    module = resolver.urlconf_module
    names = set(getattr(module, "SECRET_ROUTES", ())) | secret
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            child_namespace = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            _walk(entry, prefix + _static_part(entry.pattern), child_namespace, names, out)
        elif isinstance(entry, URLPattern) and entry.name and f"{namespace}{entry.name}" in names:
            out.append(prefix + _static_part(entry.pattern))


def _static_part(pattern: object) -> str:
    if isinstance(pattern, LocalePrefixPattern):
        return ""  # any language prefix is allowed by the compiled pattern
    if isinstance(pattern, RoutePattern):
        return str(pattern).split("<", 1)[0]
    raise TypeError(f"secret routes must be path() routes, not {type(pattern).__name__}")


@cache
def _secret_pattern() -> re.Pattern[str] | None:
    prefixes = secret_route_prefixes()
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"/{_LANGUAGE_PREFIX}(?:{alternatives})")


@cache
def _allowed_parameters() -> frozenset[str]:
    return frozenset(settings.RAKSA_ACCESSLOG_QUERY_ALLOWLIST)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: object) -> None:
    if setting in {"ROOT_URLCONF", "RAKSA_ACCESSLOG_QUERY_ALLOWLIST"}:
        _secret_pattern.cache_clear()
        _allowed_parameters.cache_clear()
        clean_query.cache_clear()
        clean_referrer.cache_clear()


def redact_path(path: str) -> str:
    """The path with whatever follows a secret route's fixed prefix replaced."""
    pattern = _secret_pattern()
    if pattern is None:
        return path
    match = pattern.match(path)
    if match is None or match.end() == len(path):
        return path
    return path[: match.end()] + REDACTED


# Addresses repeat endlessly; each distinct query string and referrer is cleaned once (bounded).
@lru_cache(maxsize=4096)
def clean_query(query: str) -> str:
    """Only allow-listed parameters survive; everything else (search words, e-mails, tokens) is dropped."""
    allowed = _allowed_parameters()
    kept = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name in allowed]
    return urlencode(kept)


def clean_address(path: str, query: str) -> str:
    """The path and allowed query of a request as the access log keeps it."""
    path = redact_path(path)
    if query:
        query = clean_query(query)
        if query:
            return f"{path}?{query}"
    return path


# A DNS name's longest (253) with a port: anything longer in a Referer is no site's address.
_LONGEST_HOST = 253 + len(":65535")


@lru_cache(maxsize=4096)
def clean_referrer(referrer: str, own_host: str) -> str:
    """Another site's address shrinks to its origin; our own pages are cleaned like request paths."""
    if not referrer:
        return ""
    address = referrer.split("#", 1)[0]
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in {"http", "https"}:
        return ""
    host, slash, path_and_query = rest.partition("/")
    if len(host) > _LONGEST_HOST:
        return ""
    if host != own_host:
        return f"{scheme}://{host}/"
    path, _, query = path_and_query.partition("?")
    return clean_address(slash + path, query)


_LOGGED_PATH = re.compile(r"(/[^\s\"?#]*)(?:\?([^\s\"#]*))?")


class RedactingFilter(logging.Filter):
    """Cleans request paths in the lines Django's server and request loggers print (404s, errors)."""

    loggers = ("django.server", "django.request")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(self.loggers):
            message = record.getMessage()
            record.msg = _LOGGED_PATH.sub(lambda m: clean_address(m.group(1), m.group(2) or ""), message)
            record.args = ()
        return True
