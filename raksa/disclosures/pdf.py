"""The record of processing as a PDF (the Thai font and layout are raksa.core.pdf's)."""

from datetime import date

from raksa.core.pdf import ThaiDocument
from raksa.disclosures.ropa import ITEMS, Row


def as_pdf(rows: list[Row], *, language: str, title: str, on: date) -> bytes:
    document = ThaiDocument(title=title)
    document.paragraph(on.isoformat())
    for number, (thai, english) in enumerate(ITEMS, start=1):
        document.heading(f"{number}. {english if language == 'en' else thai}")
        for row in rows:
            if row.item == number:
                document.paragraph(f"• {row.text(language)}", size=11)
    return document.output()
