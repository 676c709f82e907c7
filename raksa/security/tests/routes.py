"""Every URL pattern of the site, found by walking the root URLconf (new routes are swept without edits)."""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import translation

# The language the i18n-prefixed routes are swept in: both languages reach the same views.
SWEEP_LANGUAGE = "th"

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its namespaced name (if any), its pattern text and the parameters it takes."""

    name: str | None
    pattern: str
    parameters: tuple[str, ...]
    callback: Callable[..., Any]
    fixed: Mapping[str, Any]

    @property
    def label(self) -> str:
        return self.name or "/" + self.pattern

    def url(self, values: Mapping[str, Any]) -> str:
        """The address with `values` put in for the parameters (reversed by name where it has one)."""
        given = {name: values[name] for name in self.parameters}
        with translation.override(SWEEP_LANGUAGE):
            if self.name:
                return reverse(self.name, kwargs=given)
            return "/" + _ROUTE_PARAMETER.sub(lambda found: str(given[found["name"]]), self.pattern)


def all_routes() -> list[Route]:
    with translation.override(SWEEP_LANGUAGE):
        return list(_walk(get_resolver().url_patterns, prefix="", namespace="", parameters=()))


def _walk(
    patterns: list[URLPattern | URLResolver], *, prefix: str, namespace: str, parameters: tuple[str, ...]
) -> Iterator[Route]:
    for entry in patterns:
        text, names = _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix=prefix + text, namespace=inner, parameters=parameters + names)
        else:
            fixed = dict(entry.default_args)
            yield Route(
                name=f"{namespace}{entry.name}" if entry.name else None,
                pattern=prefix + text,
                parameters=tuple(name for name in parameters + names if name not in fixed),
                callback=entry.callback,
                fixed=fixed,
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
