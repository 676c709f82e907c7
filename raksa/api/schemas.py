"""What the API reads and answers. Field names here are the contract of issue 11: never rename them.

Every input refuses fields it does not know (`extra="forbid"`): nothing is silently dropped.
"""

import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from ninja import Schema
from pydantic import ConfigDict, Field

from raksa.rights.models import RequestType

REQUEST_TYPES = Literal["access", "rectification", "erasure", "restriction", "objection", "consent_withdrawal"]
assert set(get_args(REQUEST_TYPES)) == set(RequestType.values), "the API's request types follow raksa.rights"


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# Answers without a record -------------------------------------------------------------------
class Message(Schema):
    detail: str


# Accounts ---------------------------------------------------------------------------------------
class RegisterIn(Input):
    username: str = Field(max_length=150)
    email: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    accepted_policy_version: int = Field(description="`version` of GET /api/v1/policy, which the person was shown.")


class LoginIn(Input):
    username: str = Field(max_length=254, description="The user ID or the e-mail address.")
    password: str = Field(max_length=4096)
    code: str | None = Field(None, max_length=20, description="Only for accounts with two-step log-in.")


class TokenOut(Schema):
    token: str
    expires_at: datetime


class ReauthenticateIn(Input):
    password: str = Field(max_length=4096)


class ForgotIn(Input):
    email: str = Field(max_length=254)


class ResetIn(Input):
    token: str = Field(max_length=200, description="The token at the end of the link mailed by password/forgot.")
    password: str = Field(max_length=4096)


class ChangeIn(Input):
    current_password: str = Field(max_length=4096)
    password: str = Field(max_length=4096)


class MeOut(Schema):
    username: str
    email: str | None
    email_confirmed: bool
    date_joined: datetime
    password_changed_at: datetime | None
    second_factor: bool


class MePatch(Input):
    email: str | None = Field(
        None, max_length=254, description="A new address: it replaces the current one once its mailed link is followed."
    )


# Policies ---------------------------------------------------------------------------------------
class ProcessingOut(Schema):
    activity: str
    activity_label: str
    category: str
    purpose: str
    legal_basis: str
    retention: str
    retention_days: int | None
    recipients: list[str]


class PolicyOut(Schema):
    scope: str = Field(description='"platform", or the slug of the agency whose own policy this is.')
    version: int
    effective_date: date | None
    published_at: datetime | None
    summary: str
    text: str = Field(description="The whole policy as Markdown, in the language asked for.")
    html: str
    processing: list[ProcessingOut]


class PolicyVersionOut(Schema):
    version: int
    effective_date: date | None
    published_at: datetime | None
    summary: str


class PolicyVersionPage(Schema):
    items: list[PolicyVersionOut]
    next_cursor: str | None


class AgencyOut(Schema):
    slug: str
    name: str
    address: str
    phone: str
    website: str
    dpo_email: str
    dpo_phone: str


class AgencyPage(Schema):
    items: list[AgencyOut]
    next_cursor: str | None


# Consents ---------------------------------------------------------------------------------------
class ConsentOut(Schema):
    agency: str
    purpose: str
    label: str
    description: str
    granted: bool
    needs_email: bool = Field(description="Granting needs `email`: the address to send it to.")


class ConsentPage(Schema):
    items: list[ConsentOut]
    next_cursor: str | None


class ConsentIn(Input):
    agency: str = Field(max_length=50)
    granted: bool
    age_group: Literal["adult", "minor"] | None = Field(None, description="Needed to grant.")
    guardian_consents: bool = False
    email: str | None = Field(None, max_length=254)


class RecipientConsentOut(Schema):
    agency: str
    recipient: str = Field(description="The recipient's stable key, e.g. disclosures.recipient:12.")
    recipient_name: str
    purpose: str
    label: str
    description: str
    categories: list[str] = Field(description="What it would receive (registry category codes).")
    granted: bool
    covers: list[str] = Field(
        description="What the granted consent covers: the categories the person was shown when they gave it "
        "(empty when not granted). Fewer than `categories`: the recipient now receives more, and a new "
        "consent is needed for the rest."
    )


class RecipientConsentPage(Schema):
    items: list[RecipientConsentOut]
    next_cursor: str | None


class RecipientConsentIn(Input):
    agency: str = Field(max_length=50)
    recipient: str = Field(max_length=100, description="`recipient` of GET /me/consents/recipients.")
    granted: bool
    categories: list[str] | None = Field(
        None,
        max_length=100,
        description="The `categories` the app showed the person: the consent covers exactly these, and is "
        "refused (409) if the recipient now receives others. Without it, the consent covers what the "
        "recipient receives at the moment it is given.",
    )
    age_group: Literal["adult", "minor"] | None = Field(None, description="Needed to grant.")
    guardian_consents: bool = False


# Services ---------------------------------------------------------------------------------------
class ServiceOut(Schema):
    slug: str
    kind: str
    title: str
    description: str
    agency: str
    is_open: bool
    starts_at: datetime | None
    ends_at: datetime | None
    place: str


class ServicePage(Schema):
    items: list[ServiceOut]
    next_cursor: str | None


class InputFieldOut(Schema):
    name: str = Field(description="The key to send in `values`.")
    label: str
    category: str
    required: bool
    sensitive: bool = Field(description="Needs the category in `explicit_consents`.")


class ServiceDetailOut(ServiceOut):
    notice_version: int = Field(description="Send it back as `notice` when registering.")
    notice: dict[str, Any] = Field(description="The notice at collection, in the language asked for.")
    fields: list[InputFieldOut]
    seats_left: int | None


class RegistrationIn(Input):
    notice: int = Field(description="`notice_version` of the service, as the person read it.")
    submission_key: uuid.UUID = Field(description="A new UUID per form: sending it twice registers once.")
    era: Literal["be", "ce"] | None = Field(None, description="Years in the Buddhist (be) or Common (ce) era.")
    values: dict[str, str] = Field(default_factory=dict, max_length=40)
    explicit_consents: list[str] = Field(default_factory=list, max_length=40)


class RegistrationOut(Schema):
    id: uuid.UUID
    reference: str
    service: str
    service_title: str
    status: str
    created_at: datetime
    waiting_position: int | None = Field(
        description="On the waiting list: 1 is the next to get a seat. Null for any other status."
    )


class RegistrationPage(Schema):
    items: list[RegistrationOut]
    next_cursor: str | None


# Rights -----------------------------------------------------------------------------------------
class RequestIn(Input):
    type: REQUEST_TYPES
    details: str = Field("", max_length=4000)
    agency: str | None = Field(None, max_length=50, description="For consent_withdrawal: the consent's agency.")
    purpose: str | None = Field(None, max_length=64, description="For consent_withdrawal: the consent's purpose.")


class RequestEventOut(Schema):
    status: str
    at: datetime


class RequestOut(Schema):
    id: uuid.UUID
    type: str
    status: str
    due_date: date
    received_at: datetime
    closed_at: datetime | None


class ReasonOut(Schema):
    code: str = Field(description="The legal reason's code (stable; counted in the records of processing).")
    text: str = Field(description="The reason as the website shows it, in the language asked for.")


class RequestDetailOut(RequestOut):
    details: str
    events: list[RequestEventOut]
    refusal_reason: ReasonOut | None = Field(description="Why the request was refused (only when refused).")
    extension_reason: ReasonOut | None = Field(description="Why its due date was extended (only when extended).")


class RequestPage(Schema):
    items: list[RequestOut]
    next_cursor: str | None


class ExportIn(Input):
    format: Literal["json", "html", "pdf"] = Field(description="JSON (machine-readable), HTML or PDF (readable).")


class DataExportOut(Schema):
    id: uuid.UUID
    format: str
    status: str = Field(description="queued, running, ready, failed, downloaded or expired.")
    progress: int = Field(description="Percent done while it is produced; 100 once ready.")
    created_at: datetime
    expires_at: datetime | None = Field(description="When the download link stops working.")
    download_url: str | None = Field(
        description="Only on GET of one ready export: a fresh single-use link (earlier ones stop working). "
        "It works once, until `expires_at`, with this token or session."
    )


class DataExportPage(Schema):
    items: list[DataExportOut]
    next_cursor: str | None


class ErasedStoreOut(Schema):
    store: str
    rows: int


class KeptByLawOut(Schema):
    retention: str = Field(description="The retention class's code.")
    label: str
    law: str = Field(description="The law that makes the agency keep it.")
    period_days: int | None
    rows: int
    keys: int


class ErasurePlanOut(Schema):
    """The dry run of erasure: what would be erased, and what a law keeps (with its reason and period)."""

    erased: list[ErasedStoreOut]
    keys_destroyed: int
    kept_by_law: list[KeptByLawOut]


class CloseAccountIn(Input):
    confirm: bool = Field(
        description="true: I understand that my account will be closed and my data erased, and that this cannot "
        "be undone."
    )


class CorrectableOut(Schema):
    store: str
    row: str
    field: str
    category: str = Field(description="address, phone, workplace or interests.")
    label: str
    value: str


class CorrectableList(Schema):
    items: list[CorrectableOut]


class CorrectionIn(Input):
    store: str = Field(max_length=100)
    row: str = Field(max_length=100)
    field: str = Field(max_length=100)
    value: str = Field(max_length=500)


class CorrectionsIn(Input):
    changes: list[CorrectionIn] = Field(max_length=40, description="Each value to change, as listed by GET.")


class ExportFieldOut(Schema):
    value: Any
    erased: bool
    sealed: bool
    category: str
    purposes: list[str]
    legal_basis: str
    retention: str


class ExportRowOut(Schema):
    id: str
    fields: dict[str, ExportFieldOut]


class ExportStoreOut(Schema):
    store: str
    label: str
    rows: list[ExportRowOut]


class ExportAuditOut(Schema):
    time: str
    action: str
    agency: int | None
    role: str
    purpose: str
    legal_basis: str
    fields: list[str]
    outcome: str


class ExportOut(Schema):
    """The schema of the JSON download of My data (raksa.rights.export, docs/rights.md)."""

    schema_: str = Field(alias="schema")
    version: int
    subject_id: str
    generated_at: str
    stores: list[ExportStoreOut]
    audit_entries_about_me: list[ExportAuditOut]


class AccessOut(Schema):
    time: datetime
    who: str
    agency: str
    what: list[str]
    why: str
    legal_basis: str
    result: str


class AccessPage(Schema):
    items: list[AccessOut]
    next_cursor: str | None


class DisclosureOut(Schema):
    disclosed_at: datetime
    agency: str
    recipient: str
    recipient_kind: str
    purpose: str
    basis: str
    legal_reference: str
    issuing_authority: str
    fields: list[str]


class DisclosurePage(Schema):
    items: list[DisclosureOut]
    next_cursor: str | None


# Content ----------------------------------------------------------------------------------------
class NewsOut(Schema):
    id: int
    title: str
    summary: str
    body: str
    published_at: datetime
    url: str


class NewsPage(Schema):
    items: list[NewsOut]
    next_cursor: str | None


class ActivityPage(Schema):
    items: list[ServiceOut]
    next_cursor: str | None
