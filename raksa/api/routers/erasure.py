"""The erasure dry run and closing the account (PDPA s33), as on My data's pages."""

from django.contrib.auth import logout
from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Status

from raksa.api import problems
from raksa.api.auth import PERSON, account, app_token, require_recent_password
from raksa.api.problems import Problem
from raksa.api.routers.rights import request_out
from raksa.api.schemas import CloseAccountIn, ErasedStoreOut, ErasurePlanOut, KeptByLawOut, RequestOut
from raksa.rights import actions
from raksa.rights.forms import CloseAccountForm

router = Router(tags=["my data and my rights"])


@router.get(
    "/me/erasure",
    response=ErasurePlanOut,
    auth=PERSON,
    summary="What erasure would remove, and what a law keeps",
    description="The dry run the website shows before an erasure request or closing the account: nothing changes.",
)
def erasure_preview(request: HttpRequest) -> ErasurePlanOut:
    subject_id = account(request).subject_id
    if subject_id is None:
        raise Problem("not-found")
    plan = actions.plan_erasure(subject_id=subject_id)
    return ErasurePlanOut(
        erased=[ErasedStoreOut(store=store, rows=count) for store, count in plan.rows.items()],
        keys_destroyed=plan.keys,
        kept_by_law=[
            KeptByLawOut(
                retention=kept.retention.code,
                label=kept.retention.label,
                law=kept.reason,
                period_days=kept.period_days,
                rows=kept.rows,
                keys=kept.keys,
            )
            for kept in plan.kept
        ],
    )


@router.post(
    "/me/account/close",
    response={202: RequestOut},
    auth=PERSON,
    summary="Close my account and erase my data",
    description="An erasure request (PDPA s33), filed as on the website: the account is deactivated and every "
    "log-in ends at once (this token included), erasure then runs in the background. Needs `confirm: true` "
    "and a recent password (a log-in or POST /auth/reauthenticate within RAKSA_REAUTH_MINUTES).",
)
def close_account(request: HttpRequest, payload: CloseAccountIn) -> Status:
    user = account(request)
    if user.subject_id is None:
        raise Problem("not-found")
    require_recent_password(request)
    form = CloseAccountForm({"confirm": "on"} if payload.confirm else {})
    if not form.is_valid():
        raise problems.from_form(form)
    origin = f"{request.scheme}://{request.get_host()}"
    filed = actions.close_account(user=user, language=get_language() or "th", origin=origin)
    if app_token(request) is None:
        logout(request)  # the site's own scripts: the sessions are ended on the server; this clears the cookie's
    return Status(202, request_out(filed))
