"""The download of my data as the website makes it (R1, PDPA s31): asked for, produced in the background
with its progress, fetched once through a link that expires (raksa.rights.exports)."""

import uuid

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from raksa.api import problems
from raksa.api.auth import PERSON, account, require_recent_password
from raksa.api.pagination import PageQuery, page_of_queryset
from raksa.api.problems import Problem
from raksa.api.schemas import DataExportOut, DataExportPage, ExportIn
from raksa.rights import access, exports
from raksa.rights.forms import ExportForm
from raksa.rights.models import Export, ExportFormat

router = Router(tags=["my data and my rights"])


def _export(export: Export, *, download_url: str | None = None) -> DataExportOut:
    return DataExportOut(
        id=export.id,
        format=export.format,
        status=export.status,
        progress=export.progress,
        created_at=export.created_at,
        expires_at=export.expires_at,
        download_url=download_url,
    )


@router.post(
    "/me/exports",
    response={202: DataExportOut},
    auth=PERSON,
    summary="Ask for a download of my data",
    description="Produced in the background, as on the website; follow it with GET /me/exports/{id}. "
    "Needs a recent password (a log-in or POST /auth/reauthenticate within RAKSA_REAUTH_MINUTES).",
)
def request_export(request: HttpRequest, payload: ExportIn) -> Status:
    subject = account(request).subject
    if subject is None:
        raise Problem("not-found")
    require_recent_password(request)
    form = ExportForm({"format": payload.format})
    if not form.is_valid():
        raise problems.from_form(form)
    export = exports.request_export(
        subject=subject, format=form.cleaned_data["format"], language=get_language() or "th", actor=request.user
    )
    return Status(202, _export(export))


@router.get("/me/exports", response=DataExportPage, auth=PERSON, summary="My downloads, newest first")
def my_exports(request: HttpRequest, page: Query[PageQuery]) -> DataExportPage:
    mine = Export.objects.filter(subject=account(request).subject)
    rows, cursor = page_of_queryset(mine, scope="exports", order=("-created_at", "-id"), page=page)
    return DataExportPage(items=[_export(row) for row in rows], next_cursor=cursor)


@router.get(
    "/me/exports/{uuid:export_id}",
    response=DataExportOut,
    auth=PERSON,
    summary="One download: its progress, and its link once ready",
    description="Once `status` is ready, each GET issues a fresh single-use `download_url` (earlier links "
    "stop working), as the website's page does.",
)
def export_status(request: HttpRequest, export_id: uuid.UUID) -> DataExportOut:
    export = access.own_export(request, str(export_id))
    token = exports.issue_link_token(export=export)
    url = request.build_absolute_uri(f"/api/v1/me/exports/{export.id}/download/{token}") if token else None
    return _export(export, download_url=url)


_FILE_TYPES = {str(fmt): {"schema": {"type": "string", "format": "binary"}} for fmt in exports.CONTENT_TYPES.values()}


@router.get(
    "/me/exports/{uuid:export_id}/download/{token}",
    response={200: None},
    auth=PERSON,
    summary="Download it, once",
    url_name="export_download",  # a secret route: the access log cuts its token (raksa.api.urls)
    description="The file (JSON, HTML or PDF). The link works once and until `expires_at`; after that, 410.",
    openapi_extra={
        "responses": {
            200: {"description": "The file.", "content": _FILE_TYPES},
            "410": {
                "description": "The link was used or has expired: ask for a new download.",
                "content": {problems.CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        }
    },
)
def download(request: HttpRequest, export_id: uuid.UUID, token: str) -> HttpResponse:
    export = access.own_export(request, str(export_id))
    content = exports.take_download(export=export, token=token, actor=request.user)
    if content is None:
        raise Problem("gone", _("This download link was used or has expired. Ask for a new download."))
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[ExportFormat(export.format)])
    response["Content-Disposition"] = f'attachment; filename="raksa-my-data.{export.format}"'
    return response
