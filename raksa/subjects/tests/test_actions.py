"""Limits on processing (PDPA s32, s34): what may be limited, what each says, and that each write is audited."""

import uuid

from django.test import TestCase

from raksa.audit.models import AuditEntry
from raksa.subjects import limits
from raksa.subjects.actions import lift_limits, limit_processing
from raksa.subjects.models import LimitKind, Subject


class LimitTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.subject = Subject.objects.create()
        self.reference = uuid.uuid4()

    def test_it_never_limits_answering_requests_investigations_or_the_log_in(self) -> None:
        for purposes in ([], ["rights_requests"], ["incident_investigation"], ["account_operation"]):
            with self.subTest(purposes), self.assertRaises(ValueError):
                limit_processing(
                    subject=self.subject, kind=LimitKind.OBJECTION, purposes=purposes, reference=None, actor=None
                )
        limit_processing(
            subject=self.subject, kind=LimitKind.RESTRICTION, purposes=[limits.ALL], reference=None, actor=None
        )
        self.assertTrue(limits.is_limited(self.subject.id, "service_delivery"))
        self.assertFalse(limits.is_limited(self.subject.id, "rights_requests"))
        self.assertEqual(limits.limited_among([self.subject.id, uuid.uuid4()], "contact"), {self.subject.id})

    def test_it_limits_an_objection_to_its_purposes_and_lifts_only_its_own_limits_audited(self) -> None:
        limit_processing(
            subject=self.subject,
            kind=LimitKind.OBJECTION,
            purposes=["news_and_pr"],
            reference=self.reference,
            actor=None,
        )
        limit_processing(
            subject=self.subject, kind=LimitKind.OBJECTION, purposes=["opinion_surveys"], reference=None, actor=None
        )
        self.assertFalse(limits.is_limited(self.subject.id, "service_delivery"))
        self.assertEqual(lift_limits(subject=self.subject, reference=self.reference, actor=None), 1)
        self.assertFalse(limits.is_limited(self.subject.id, "news_and_pr"))
        self.assertTrue(limits.is_limited(self.subject.id, "opinion_surveys"))
        entries = AuditEntry.objects.filter(subject_id=self.subject.id).order_by("id")
        self.assertEqual(
            [(e.action, e.purpose, e.legal_basis) for e in entries],
            [
                ("subjects.limit_processing", "news_and_pr", "pdpa_s32"),
                ("subjects.limit_processing", "opinion_surveys", "pdpa_s32"),
                ("subjects.lift_limit", "news_and_pr", "pdpa_s32"),
            ],
        )
