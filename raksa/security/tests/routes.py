"""Every URL pattern of the site, found by walking the root URLconf (new routes are swept without edits)."""

import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import translation
from ninja.operation import PathView

# The language-prefixed routes reach the same views in Thai and English, through different addresses and
# the locale middleware. Each is swept in one of them, chosen by a stable hash of its name (about half
# each, the same every run, so the suite costs no more than one language); `make security` sets
# RAKSA_SECURITY_SCAN=1 and sweeps every route in both.
LANGUAGES = ("th", "en")
SWEEP_LANGUAGE = LANGUAGES[0]

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its namespaced name (if any), its pattern text and the parameters it takes."""

    name: str | None
    pattern: str
    parameters: tuple[str, ...]
    callback: Callable[..., Any]
    fixed: Mapping[str, Any]
    localized: bool = False

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the route is swept in (a route without a language prefix: one, which is moot)."""
        if not self.localized:
            return (SWEEP_LANGUAGE,)
        if os.environ.get("RAKSA_SECURITY_SCAN") == "1":
            return LANGUAGES
        return (LANGUAGES[zlib.crc32(self.label.encode()) % len(LANGUAGES)],)

    @property
    def methods(self) -> frozenset[str] | None:
        """The HTTP methods the view declares it answers (`require_http_methods` or the API's own), or None."""
        return declared_methods(self.callback)

    @property
    def label(self) -> str:
        return self.name or "/" + self.pattern

    def url(self, values: Mapping[str, Any], language: str = SWEEP_LANGUAGE) -> str:
        """The address with `values` put in for the parameters (reversed by name where it has one)."""
        given = {name: values[name] for name in self.parameters}
        with translation.override(language):
            if self.name:
                return reverse(self.name, kwargs=given)
            pattern = self.pattern
            if self.localized:
                pattern = language + pattern.removeprefix(SWEEP_LANGUAGE)
            return "/" + _ROUTE_PARAMETER.sub(lambda found: str(given[found["name"]]), pattern)


def declared_methods(view: object) -> frozenset[str] | None:
    """What Django's `require_http_methods` (under any other decorators) or a ninja path view allows."""
    seen: set[int] = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        free = dict(
            zip(
                getattr(getattr(view, "__code__", None), "co_freevars", ()),
                getattr(view, "__closure__", None) or (),
                strict=True,
            )
        )
        if "request_method_list" in free:
            return frozenset(free["request_method_list"].cell_contents)
        if isinstance(getattr(free.get("self"), "cell_contents", None), PathView):
            return frozenset(
                method for operation in free["self"].cell_contents.operations for method in operation.methods
            )
        view = getattr(view, "__wrapped__", None)
    return None


def all_routes() -> list[Route]:
    with translation.override(SWEEP_LANGUAGE):
        return list(_walk(get_resolver().url_patterns, prefix="", namespace="", parameters=(), localized=False))


def _walk(
    patterns: list[URLPattern | URLResolver],
    *,
    prefix: str,
    namespace: str,
    parameters: tuple[str, ...],
    localized: bool,
) -> Iterator[Route]:
    for entry in patterns:
        text, names = _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(
                entry.url_patterns,
                prefix=prefix + text,
                namespace=inner,
                parameters=parameters + names,
                localized=localized or isinstance(entry.pattern, LocalePrefixPattern),
            )
        else:
            fixed = dict(entry.default_args)
            yield Route(
                name=f"{namespace}{entry.name}" if entry.name else None,
                pattern=prefix + text,
                parameters=tuple(name for name in parameters + names if name not in fixed),
                callback=entry.callback,
                fixed=fixed,
                localized=localized,
            )


def _pattern_text(pattern: object) -> tuple[str, tuple[str, ...]]:
    if isinstance(pattern, LocalePrefixPattern):
        return pattern.language_prefix, ()
    if isinstance(pattern, RoutePattern):
        text = str(pattern)
        return text, tuple(found["name"] for found in _ROUTE_PARAMETER.finditer(text))
    if isinstance(pattern, RegexPattern):
        compiled = pattern.regex
        return compiled.pattern.lstrip("^").rstrip("$"), tuple(compiled.groupindex)
    raise TypeError(f"the sweep does not know URL patterns of type {type(pattern).__name__}")
