"""What in a page the Content-Security-Policy would block: inline code without the response's nonce."""

from html.parser import HTMLParser


class InlineCode(HTMLParser):
    """Collects inline scripts and styles, event-handler attributes and javascript: URLs of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts_without_nonce: list[str] = []
        self.script_nonces: set[str] = set()
        self.styles_without_nonce: list[str] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self.style_attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.javascript_urls.append(f"<{tag} {name}={value}>")
            if name == "style":
                self.style_attributes.append(f"<{tag} style={value}>")
        nonce = values.get("nonce")
        if tag == "script" and "src" not in values and _executable(values.get("type")):
            if nonce:
                self.script_nonces.add(nonce)
            else:
                self.scripts_without_nonce.append(self.getpos().__repr__())
        if tag == "style" and not nonce:
            self.styles_without_nonce.append(self.getpos().__repr__())


def _executable(script_type: str | None) -> bool:
    """Whether a browser runs a <script> of this type (a data block such as application/json it does not)."""
    kind = (script_type or "").strip().lower()
    return kind in {"", "module", "text/javascript", "application/javascript", "text/ecmascript"}


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser
