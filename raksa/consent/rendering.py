"""Markdown to safe HTML for policy texts, and a line diff between two texts.

Raw HTML in the source is never passed through: python-markdown's HTML block and inline-HTML
handlers are removed, so `<script>` arrives as text and is escaped. Links keep only http(s),
relative and fragment targets (javascript:, data: and mailto: lose their href: addresses are not
published as text, V3); images become their alt text.
No extension that writes `style` attributes is used (the CSP forbids inline styles).
"""

import difflib
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element  # builds elements for Markdown, parses none  # nosec B405

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

_SAFE_SCHEMES = {"", "http", "https"}


class _SafeLinks(Treeprocessor):
    def run(self, root: Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and urlsplit(value.strip()).scheme.lower() not in _SAFE_SCHEMES:
                    del element.attrib[attribute]
            if element.tag == "img":
                # Policy texts carry no pictures; an image would load from wherever its author chose.
                element.tag = "span"
                element.text = element.get("alt", "")
                element.attrib.clear()


class _NoRawHtml(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (python-markdown's name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "raksa_safe_links", 0)


def render_markdown(text: str) -> str:
    return markdown.markdown(text, extensions=[_NoRawHtml(), "sane_lists"], output_format="html")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """Every line of both texts, marked as kept, added or removed (a full view, not hunks)."""
    lines: list[DiffLine] = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        marker, text = line[:2], line[2:]
        if marker == "  ":
            lines.append(DiffLine("same", text))
        elif marker == "+ ":
            lines.append(DiffLine("added", text))
        elif marker == "- ":
            lines.append(DiffLine("removed", text))
    return lines
