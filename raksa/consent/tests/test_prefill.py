import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import TestCase

from raksa.consent import actions
from raksa.consent.models import Channel
from raksa.consent.purposes import PROFILE_PREFILL
from raksa.services import prefill
from raksa.services.tests import builders
from raksa.subjects.actions import lift_limits, limit_processing
from raksa.subjects.limits import ALL
from raksa.subjects.models import LimitKind

PROFILE_EMAIL = "profile@example.org"


class PrefillConsentTests(TestCase):
    """Services pre-fill a form from the profile only while the person's consent is live (U1)."""

    databases = "__all__"

    @pytest.fixture(autouse=True)
    def _profile_source(self) -> Iterator[None]:
        # The profile's e-mail as a source; the consent check is the one the consent app registers.
        before = dict(prefill._SOURCES)
        prefill.register_source("email", lambda request: PROFILE_EMAIL)
        yield
        prefill._SOURCES.clear()
        prefill._SOURCES.update(before)

    def setUp(self) -> None:
        self.office = builders.agency()
        builders.certificate(self.office, fields=("name", "email"))
        self.person = builders.citizen()
        self.client.force_login(self.person)

    def form(self) -> str:
        return self.client.get("/th/services/certificate/").content.decode()

    def test_it_prefills_only_with_live_consent_and_stops_at_once_on_withdrawal_u1(self) -> None:
        self.assertNotIn(PROFILE_EMAIL, self.form())
        subject = builders.subject_of(self.person)
        grant: dict[str, Any] = {
            "subject": subject,
            "agency": self.office,
            "purpose": PROFILE_PREFILL.code,
            "channel": Channel.WEB,
        }
        actions.grant_consent(**grant, minor=False)
        self.assertIn(f'value="{PROFILE_EMAIL}"', self.form())
        actions.withdraw_consent(**grant)
        self.assertNotIn(PROFILE_EMAIL, self.form())

    def test_it_stops_prefilling_while_the_person_restricted_processing_and_resumes_when_lifted(self) -> None:
        subject = builders.subject_of(self.person)
        actions.grant_consent(
            subject=subject, agency=self.office, purpose=PROFILE_PREFILL.code, channel=Channel.WEB, minor=False
        )
        reference = uuid.uuid4()
        limit_processing(subject=subject, kind=LimitKind.RESTRICTION, purposes=[ALL], reference=reference, actor=None)
        self.assertNotIn(PROFILE_EMAIL, self.form())  # PDPA s34: the live consent does not count meanwhile
        lift_limits(subject=subject, reference=reference, actor=None)
        self.assertIn(f'value="{PROFILE_EMAIL}"', self.form())

    def test_it_does_not_take_another_agencys_consent_for_this_one_u1(self) -> None:
        other = builders.agency("lat-krabang")
        actions.grant_consent(
            subject=builders.subject_of(self.person),
            agency=other,
            purpose=PROFILE_PREFILL.code,
            channel=Channel.WEB,
            minor=False,
        )
        self.assertNotIn(PROFILE_EMAIL, self.form())
