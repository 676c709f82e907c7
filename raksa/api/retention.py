"""The retention of the API's rate-limit rows: once a client has been idle for a whole window, its
request times are all outside it and of no use.

The API deletes them itself when a new client arrives; this rule ends them even when none comes.
"""

import datetime

from raksa.api.models import RecentRequests
from raksa.api.throttling import WINDOW_SECONDS
from raksa.retention.rules import Period, Rule, register


def _period() -> Period:
    return Period(
        length=datetime.timedelta(seconds=WINDOW_SECONDS),
        starts_when_th="คำขอล่าสุดของผู้ใช้รายนั้น",
        starts_when_en="the client's latest request",
        source="raksa.api.throttling.WINDOW_SECONDS",
        at_most=True,
    )


register(
    Rule(
        code="api.recentrequests",
        model="api.RecentRequests",
        label_th="เวลาของคำขอล่าสุดของแอปพลิเคชัน (ค่าแฮชของผู้ใช้)",
        label_en="the times of the application's recent requests (keyed hashes of clients)",
        period=_period,
        due=lambda now: RecentRequests.objects.filter(last_at__lt=now - datetime.timedelta(seconds=WINDOW_SECONDS)),
    )
)
