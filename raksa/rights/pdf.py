"""The person's data as a PDF, in their language (Thai or English), from the assembled export."""

from typing import Any

from django.utils.translation import gettext as _

from raksa.core.pdf import ThaiDocument


def as_pdf(data: dict[str, Any]) -> bytes:
    """Written in the active language; the caller picks it (translation.override)."""
    document = ThaiDocument(title=_("My data"))
    document.paragraph(f"{_('Produced')}: {data['generated_at']} · {_('Format version')} {data['version']}")
    for store in data["stores"]:
        document.heading(store["label"])
        if not store["rows"]:
            document.paragraph(_("Nothing held."))
        for row in store["rows"]:
            for name, field in row["fields"].items():
                value = _("erased") if field["erased"] else ("—" if field["value"] is None else str(field["value"]))
                document.paragraph(f"{name}: {value}")
            document.paragraph("")
    document.heading(_("Actions about me in the audit log"))
    for entry in data["audit_entries_about_me"]:
        document.paragraph(f"{entry['time']} {entry['action']} {entry['purpose']}")
    return document.output()
