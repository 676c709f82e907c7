"""The API's rate-limit rows leave once their client has been idle for a whole window, requests or not."""

import datetime

from django.test import TestCase

from raksa.api.models import RecentRequests
from raksa.api.throttling import WINDOW_SECONDS
from raksa.retention import engine
from raksa.retention.actions import run_retention


class RecentRequestsRetentionTests(TestCase):
    databases = "__all__"

    def test_a_clients_row_leaves_a_window_after_its_last_request(self) -> None:
        last = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC)
        RecentRequests.objects.create(bucket="a" * 64, times=[last.timestamp()], last_at=last)
        still_counted = last + datetime.timedelta(seconds=WINDOW_SECONDS)
        over = still_counted + datetime.timedelta(seconds=1)
        self.assertEqual(run_retention(now=still_counted, only=["api.recentrequests"])[0].total, 0)
        (plan,) = engine.plan(now=over, only=["api.recentrequests"])
        self.assertEqual(plan.total, 1)
        self.assertEqual(run_retention(now=over, only=["api.recentrequests"])[0].total, 1)
        self.assertFalse(RecentRequests.objects.exists())
