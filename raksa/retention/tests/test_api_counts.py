"""The API's rate-limit counts leave once their minute and the next are over, requests or not."""

import datetime

from django.test import TestCase

from raksa.api.models import RequestCount
from raksa.api.throttling import WINDOW_SECONDS
from raksa.retention import engine
from raksa.retention.actions import run_retention


class RequestCountRetentionTests(TestCase):
    databases = "__all__"

    def test_a_count_leaves_after_its_window_and_the_next(self) -> None:
        minute = 29_000_000
        RequestCount.objects.create(bucket="a" * 64, minute=minute, count=3)
        start = datetime.datetime.fromtimestamp(minute * WINDOW_SECONDS, tz=datetime.UTC)
        still_counted = start + datetime.timedelta(seconds=2 * WINDOW_SECONDS - 1)
        over = start + datetime.timedelta(seconds=2 * WINDOW_SECONDS)
        self.assertEqual(run_retention(now=still_counted, only=["api.requestcount"])[0].total, 0)
        (plan,) = engine.plan(now=over, only=["api.requestcount"])
        self.assertEqual(plan.total, 1)
        self.assertEqual(run_retention(now=over, only=["api.requestcount"])[0].total, 1)
        self.assertFalse(RequestCount.objects.exists())
