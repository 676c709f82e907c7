"""The download of one's data (R1, PDPA s31): asked for, produced in the background with its progress
shown, fetched once through a link that expires. Asking, producing and downloading are audited."""

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from typing import Final

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from raksa.audit import actions as audit
from raksa.organisations.models import Controller
from raksa.rights.export import assemble
from raksa.rights.models import Export, ExportFormat, ExportStatus
from raksa.rights.pdf import as_pdf
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed
from raksa.vault.keys import session
from raksa.vault.openers import Opener

LINK_LIFETIME: Final = timedelta(hours=24)
# How long the bookkeeping row of a finished export (emptied: no copy of the data left) stays on the
# person's My-data page before it is deleted.
FINISHED_ROW_LIFETIME: Final = timedelta(days=30)
# A queued or running export older than this was abandoned (a worker died): it fails visibly.
ABANDONED_AFTER: Final = timedelta(hours=6)
CONTENT_TYPES: Final = {
    ExportFormat.JSON: "application/json",
    ExportFormat.HTML: "text/html; charset=utf-8",
    ExportFormat.PDF: "application/pdf",
}


def _audit(export: Export, action: str, actor: object = None) -> None:
    audit.record(
        action=f"rights.export.{action}",
        actor=actor,
        subject_id=export.subject_id,
        object_type="rights.export",
        object_id=export.id,
        purpose="rights_requests",
    )


def request_export(*, subject: Subject, format: str, language: str, actor: object) -> Export:
    from raksa.rights.tasks import produce_export

    with transaction.atomic():
        export = Export.objects.create(
            subject=subject,
            controller=Controller.objects.get(is_platform_operator=True),
            format=format,
            language=language,
        )
        _audit(export, "request", actor)
        transaction.on_commit(lambda: produce_export.enqueue(export_id=str(export.id)))
    return export


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def produce(*, export: Export) -> str:
    """Assembles the person's data, records the progress store by store, and seals the result."""
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=0)

    def progress(done: int, total: int) -> None:
        Export.objects.filter(pk=export.pk).update(progress=min(99, done * 100 // max(total, 1)))

    try:
        with session():
            data = assemble(export.subject_id, opener=Opener.for_system("export"), progress=progress)
        content: str
        with translation.override(export.language):
            if export.format == ExportFormat.HTML:
                content = render_to_string("rights/export.html", {"data": data, "language": export.language})
            elif export.format == ExportFormat.PDF:
                # The vault seals text: the PDF's bytes travel as base64 until the download decodes them.
                content = base64.b64encode(as_pdf(data)).decode("ascii")
            else:
                content = json.dumps(data, ensure_ascii=False, indent=2)
    except Exception as error:
        # The case shows the failure (its class name, never a value) and the person can ask again.
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=type(error).__name__)
        raise
    with transaction.atomic():
        export.refresh_from_db()
        export.content = "".join([content])  # a plain str: the vault seals str, not SafeString
        export.status = ExportStatus.READY
        export.progress = 100
        export.expires_at = timezone.now() + LINK_LIFETIME
        save_sealed(export)
        _audit(export, "produce")
    return export.status


def issue_link_token(*, export: Export) -> str | None:
    """A fresh single-use token for a ready export (shown to its owner only, replacing any earlier one)."""
    if export.status != ExportStatus.READY or export.expires_at is None or export.expires_at <= timezone.now():
        return None
    token = secrets.token_urlsafe(32)
    Export.objects.filter(pk=export.pk).update(token_digest=_digest(token))
    return token


def take_download(*, export: Export, token: str, actor: object) -> bytes | None:
    """The content, once: the token must match, the link must not have expired or been used.
    The sealed copy is emptied at once, so nothing of it outlives the download."""
    with transaction.atomic():
        locked = Export.objects.select_for_update().get(pk=export.pk)
        if (
            locked.status != ExportStatus.READY
            or not locked.token_digest
            or not secrets.compare_digest(locked.token_digest, _digest(token))
            or locked.expires_at is None
            or locked.expires_at <= timezone.now()
        ):
            return None
        with session():
            content = Opener.for_subject(locked.subject_id).open(locked.content)
        locked.content = None
        locked.token_digest = ""  # clears a digest, not a password  # nosec B105
        locked.status = ExportStatus.DOWNLOADED
        locked.downloaded_at = timezone.now()
        save_sealed(locked)
        _audit(locked, "download", actor)
    if not isinstance(content, str):
        return None
    return base64.b64decode(content) if locked.format == ExportFormat.PDF else content.encode()
