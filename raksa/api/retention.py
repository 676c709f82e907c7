"""The retention of the API's rate-limit counts: a finished minute's count is of no use.

The API deletes them itself at the first request of a later minute; this rule ends them even when
no request comes.
"""

import datetime

from raksa.api.models import RequestCount
from raksa.api.throttling import WINDOW_SECONDS
from raksa.retention.rules import Period, Rule, register


def _period() -> Period:
    return Period(
        # The current window and the one before it are still counted.
        length=datetime.timedelta(seconds=2 * WINDOW_SECONDS),
        starts_when_th="ช่วงเวลาที่นับเริ่มต้น",
        starts_when_en="the counted minute begins",
        source="raksa.api.throttling.WINDOW_SECONDS",
        at_most=True,
    )


register(
    Rule(
        code="api.requestcount",
        model="api.RequestCount",
        label_th="จำนวนคำขอของแอปพลิเคชันต่อนาที (ค่าแฮชของผู้ใช้)",
        label_en="the application's requests per minute (keyed hashes of clients)",
        period=_period,
        due=lambda now: RequestCount.objects.filter(minute__lt=int(now.timestamp() // WINDOW_SECONDS) - 1),
    )
)
