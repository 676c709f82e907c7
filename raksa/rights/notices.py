"""The last message of an erasure ("your data has been erased") can be sent again if it fails.

Erasure destroys the address it goes to, so `keep_address` seals it first in an `ErasureNotice`, under
the person's key of the `erasure_notice` class, which erasure keeps (`KEPT_CLASS`). Once the message
went (raksa.rights.actions._send), `forget` deletes the row, and the key is destroyed after that
deletion commits. A message that cannot be sent is recorded on the case and staff send it again
(raksa.rights.actions.resend_mail); if it never can be, the retention rule below destroys the key after
the class's period (30 days).
"""

from datetime import timedelta

from django.db import transaction

from raksa.audit import actions as audit
from raksa.registry import ERASURE_NOTICE
from raksa.retention.actions import destroy_unused_keys_after_commit
from raksa.retention.rules import Period, Rule, register
from raksa.rights.models import ErasureNotice, RightsRequest
from raksa.vault.actions import save_sealed
from raksa.vault.openers import Opener

KEPT_CLASS = ERASURE_NOTICE.code
RULE = "rights.erasure_notice"


def keep_address(*, request: RightsRequest, address: str) -> ErasureNotice:
    """Seals the address under the notice's own key until the message is sent."""
    with transaction.atomic():
        notice, _created = ErasureNotice.objects.get_or_create(
            request=request, defaults={"subject_id": request.subject_id, "controller_id": request.controller_id}
        )
        notice.email = address
        save_sealed(notice)
    return notice


def address(request: RightsRequest) -> str | None:
    """The kept address, while it is kept."""
    notice = ErasureNotice.objects.filter(request=request).first()
    value = Opener.for_system("mailer").open(notice.email) if notice is not None else None
    return value if isinstance(value, str) and value else None


def forget(*, request: RightsRequest, actor: object = None) -> None:
    """The message went: the address's row is deleted (audited), and its key destroyed once that
    commits, if it then seals nothing else (raksa.retention.actions.destroy_unused_keys_after_commit)."""
    with transaction.atomic():
        deleted, _by_model = ErasureNotice.objects.filter(request=request).delete()
        if deleted:
            # The key is the person's for this controller and class: another erasure's notice may
            # still need it, so it ends only once it seals nothing — after this deletion commits, outside
            # the caller's transaction and locks (a rollback keeps the row and its key).
            destroy_unused_keys_after_commit(
                rule=RULE, retention=KEPT_CLASS, scopes=[(request.subject_id, request.controller_id)]
            )
            audit.record(
                action="rights.erasure_notice.forget",
                actor=actor,
                subject_id=request.subject_id,
                object_type="rights.rightsrequest",
                object_id=request.id,
                purpose="rights_requests",
            )


def _period() -> Period:
    return Period.of_class(ERASURE_NOTICE)


register(
    Rule(
        code=RULE,
        model="rights.ErasureNotice",
        label_th="ที่อยู่อีเมลสำหรับแจ้งว่าลบข้อมูลแล้วที่ยังส่งข้อความไม่ได้",
        label_en="addresses kept to confirm an erasure whose message could not be sent",
        period=_period,
        due=lambda now: ErasureNotice.objects.filter(created_at__lte=now - timedelta(days=_days())),
        retention=ERASURE_NOTICE,
        subject="subject_id",
        controller="controller_id",
        time="created_at",
        shred=True,
    )
)


def _days() -> int:
    assert ERASURE_NOTICE.period_days is not None
    return ERASURE_NOTICE.period_days
