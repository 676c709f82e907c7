"""The record of processing as a PDF, with the site's own Thai font (Sarabun) embedded.

fpdf2 is pure Python and embeds a subset of a TrueType font; Sarabun comes from fontpkg-sarabun,
which the site already ships for its pages.
"""

import logging
from datetime import date
from pathlib import Path

import fontpkg_sarabun
from fpdf import FPDF

from raksa.disclosures.ropa import ITEMS, Row

FONTS = Path(fontpkg_sarabun.ROOT) / "files"
# fontTools logs every glyph of every subset at INFO: noise in the server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def as_pdf(rows: list[Row], *, language: str, title: str, on: date) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("Sarabun", "", str(FONTS / "Sarabun-Regular.ttf"))
    pdf.add_font("Sarabun", "B", str(FONTS / "Sarabun-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("Sarabun", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("Sarabun", "", 10)
    pdf.multi_cell(0, 6, on.isoformat(), new_x="LMARGIN", new_y="NEXT", align="L")
    for number, (thai, english) in enumerate(ITEMS, start=1):
        pdf.ln(3)
        pdf.set_font("Sarabun", "B", 12)
        pdf.multi_cell(
            0, 7, f"{number}. {english if language == 'en' else thai}", new_x="LMARGIN", new_y="NEXT", align="L"
        )
        pdf.set_font("Sarabun", "", 11)
        for row in rows:
            if row.item == number:
                pdf.multi_cell(0, 6, f"• {row.text(language)}", new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())
