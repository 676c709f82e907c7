"""The disclosures app's part of the person's My data page (raksa.rights): the ledger, and its rows.

The ledger is a section of the page. The rows of the ledger are a store of the registry (the order
a disclosure was made under is sealed personal data), so My data and the download list them too;
the finder leaves out what a lawful hold still defers, exactly as the ledger does, so neither the
page, the download nor the erasure preview reveals a held disclosure before its date.
"""

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from raksa.disclosures.actions import ledger_for, visible_disclosures
from raksa.subjects.models import Subject


def ledger_section(request: HttpRequest, subject: Subject) -> SafeString:
    # Without the request: the section needs none of it, and with it every context processor (the
    # footer's, the policy banner's: a few queries) would run a second time for the one page.
    html = render_to_string("disclosures/_ledger.html", {"disclosure_ledger": ledger_for(subject)})
    return mark_safe(html)  # noqa: S308 (rendered by our own autoescaping template)  # nosec B308, B703


def register() -> None:
    from raksa.rights import finders, sections

    sections.register_section(ledger_section)
    finders.register_finder("disclosures.Disclosure", visible_disclosures)
