"""PDF documents in Thai or English, with the site's own Thai font (Sarabun) embedded.

fpdf2 is pure Python and embeds a subset of a TrueType font; Sarabun comes from fontpkg-sarabun,
which the site already ships for its pages. Every PDF Raksa writes (the record of processing, a
person's own data) starts from `ThaiDocument`, so the font and layout live in one place.
"""

import logging
from pathlib import Path

import fontpkg_sarabun
from fpdf import FPDF

FONTS = Path(fontpkg_sarabun.ROOT) / "files"
FAMILY = "Sarabun"
# fontTools logs every glyph of every subset at INFO: noise in the server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class ThaiDocument:
    """An A4 document written top to bottom: a title, headings and paragraphs that wrap."""

    def __init__(self, *, title: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_font(FAMILY, "", str(FONTS / "Sarabun-Regular.ttf"))
        self.pdf.add_font(FAMILY, "B", str(FONTS / "Sarabun-Bold.ttf"))
        self.pdf.set_title(title)
        self.pdf.add_page()
        self._write(title, bold=True, size=16, height=9)

    def _write(self, text: str, *, bold: bool, size: int, height: float) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)
        self.pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT", align="L")

    def heading(self, text: str, *, size: int = 12) -> None:
        self.pdf.ln(3)
        self._write(text, bold=True, size=size, height=7)

    def paragraph(self, text: str, *, size: int = 10) -> None:
        self._write(text, bold=False, size=size, height=6)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
