"""`raksa retention run` on downloads: nothing of a person's download outlives its link (R1, storage limitation)."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from raksa.accounts.addresses import store as store_email
from raksa.audit.models import AuditEntry
from raksa.rights import exports
from raksa.rights.models import Export, ExportStatus
from raksa.services.tests.builders import subject_of
from raksa.testing.accounts import citizen, platform_operator

EXPORT_RULES = ("--rule", "rights.export", "--rule", "rights.export_abandoned", "--rule", "rights.export_record")


def run_export_rules() -> str:
    out = StringIO()
    call_command("retention", "run", *EXPORT_RULES, stdout=out)
    return out.getvalue()


class CleanupTests(TestCase):
    databases = "__all__"

    def ready_export(self) -> Export:
        platform_operator()
        user = citizen()
        store_email(user, "cleanup@example.org")
        export = exports.request_export(subject=subject_of(user), format="json", language="th", actor=user)
        exports.produce(export=export)
        export.refresh_from_db()
        return export

    def test_it_empties_an_export_whose_link_expired_unused_and_later_forgets_its_row(self) -> None:
        export = self.ready_export()
        self.assertIsNotNone(export.content)
        token = exports.issue_link_token(export=export)
        run_export_rules()
        export.refresh_from_db()
        self.assertEqual(export.status, ExportStatus.READY)  # still within its 24 hours: untouched

        Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        run_export_rules()
        export.refresh_from_db()
        self.assertEqual((export.status, export.content, export.token_digest), (ExportStatus.EXPIRED, None, ""))
        self.assertIsNone(exports.take_download(export=export, token=token or "", actor=None))
        ended = AuditEntry.objects.get(action="retention.records_ended", object_type="rights.export")
        self.assertEqual((ended.object_id, ended.subject_id), ("1", None))

        Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(days=31))
        run_export_rules()
        self.assertFalse(Export.objects.filter(pk=export.pk).exists())

    def test_it_fails_an_abandoned_export_visibly(self) -> None:
        export = self.ready_export()
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, created_at=timezone.now() - timedelta(hours=5)
        )
        run_export_rules()
        export.refresh_from_db()
        self.assertEqual(export.status, ExportStatus.RUNNING)  # five hours: the worker may still be on it
        Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(hours=7))
        run_export_rules()
        export.refresh_from_db()
        self.assertEqual((export.status, export.error), (ExportStatus.FAILED, "Abandoned"))
