"""The access log's writes and its audited reads: legal holds, retention, salts, investigation search."""

import contextlib
import datetime
import logging
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from raksa.accesslog import daykeys, partitions
from raksa.accesslog.checks import MINIMUM_RAW_DAYS
from raksa.accesslog.models import (
    AccessRecord,
    DailyCount,
    DailyTotal,
    DayClient,
    DayVisitor,
    Dimension,
    LegalHold,
    ReverseName,
    SpoolCursor,
    WeeklyCount,
    WeeklyTotal,
)
from raksa.audit.actions import record, record_committed

log = logging.getLogger(__name__)

SEARCH_LIMIT = 500
# What a search shows, by field name, for its audit entry.
SEARCH_FIELDS = ("time", "ip", "user_agent", "domain_name", "path", "referrer", "subject_id")


# Why an investigator may search raw records: codes, so the audit entry never carries prose.
SEARCH_PURPOSES = {
    "incident_investigation": _("Investigating a problem with the service"),
    "security_incident": _("Investigating a security incident"),
    "service_fault": _("Diagnosing a fault reported by a user"),
    "authority_request": _("Answering an order of a competent authority"),
}


def local_today(now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, zone)
    return start, start + datetime.timedelta(days=1)


# Legal holds ---------------------------------------------------------------------------------------
@transaction.atomic
def place_legal_hold(
    *,
    actor: object,
    role: str,
    agency_id: int | None,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    case_reference: str,
) -> LegalHold:
    hold = LegalHold.objects.create(
        starts_at=starts_at, ends_at=ends_at, case_reference=case_reference, placed_by_id=_actor_id(actor)
    )
    _record_hold("accesslog.hold_placed", hold, actor=actor, role=role, agency_id=agency_id)
    return hold


@transaction.atomic
def release_legal_hold(*, hold: LegalHold, actor: object, role: str, agency_id: int | None) -> LegalHold:
    hold.released_at = timezone.now()
    hold.released_by_id = _actor_id(actor)
    hold.save(update_fields=["released_at", "released_by_id"])
    _record_hold("accesslog.hold_released", hold, actor=actor, role=role, agency_id=agency_id)
    return hold


def _record_hold(action: str, hold: LegalHold, *, actor: object, role: str, agency_id: int | None) -> None:
    record(
        action=action,
        actor=actor,
        role=role,
        agency_id=agency_id,
        object_type="accesslog.legalhold",
        object_id=hold.pk,
        purpose="incident_investigation",
        legal_basis="pdpa_24_6",
    )


def held_days(days: list[datetime.date]) -> set[datetime.date]:
    """The days among these that an active legal hold covers (in part)."""
    held: set[datetime.date] = set()
    holds = list(LegalHold.objects.filter(released_at__isnull=True).values_list("starts_at", "ends_at"))
    for day in days:
        start, end = day_bounds(day)
        if any(hold_start < end and hold_end > start for hold_start, hold_end in holds):
            held.add(day)
    return held


# Retention -----------------------------------------------------------------------------------------
@dataclass
class PurgeReport:
    purged: list[datetime.date]
    held: list[datetime.date]


def purge_expired_days(*, now: datetime.datetime | None = None) -> PurgeReport:
    """Destroys the key and drops the records of each day older than the retention, unless held.

    The key goes first: from that instant the day is unreadable everywhere, backups included; the
    rows follow (a partition dropped, or batched deletes), and a crash in between is finished by the
    next run. Each purged day is audited.
    """
    raw_days = settings.RAKSA_ACCESSLOG_RAW_DAYS
    if raw_days < MINIMUM_RAW_DAYS:
        raise ImproperlyConfigured("RAKSA_ACCESSLOG_RAW_DAYS is below the legal minimum of 90 days")
    cutoff = local_today(now) - datetime.timedelta(days=raw_days)
    candidates = sorted({day for day in daykeys.days_with_keys() if day < cutoff} | set(partitions.days_stored(cutoff)))
    held = held_days(candidates)
    purged = []
    for day in candidates:
        if day in held:
            continue
        daykeys.destroy_day_key(day)
        partitions.drop_day(day)
        with transaction.atomic():
            ReverseName.objects.filter(day=day).delete()
            record(
                action="accesslog.day_purged",
                object_type="accesslog.day",
                object_id=day.strftime("%Y%m%d"),
                purpose="retention",
                legal_basis="pdpa_24_6",
            )
        purged.append(day)
    # Spool cursors only guard against replaying a file whose records are now gone anyway.
    SpoolCursor.objects.filter(updated_at__lt=day_bounds(cutoff)[0]).exclude(source__startswith="import:").delete()
    if held:
        log.info("access log: %d expired days kept under legal hold", len(held))
    return PurgeReport(purged=purged, held=sorted(held))


def destroy_past_salts(*, now: datetime.datetime | None = None) -> list[datetime.date]:
    """Once a day is over its visitor salt goes: nobody can recompute who visited on which days.

    The closed day's long lists (pages, referring sites, networks) are compacted to their top
    COMPACT_KEEP values and one "(other)", and each finished week is rolled up into lists compacted
    the same way (`roll_up_weeks`): the dashboard's cost then follows weeks and days, not visits.
    """
    today = local_today(now)
    days = daykeys.destroy_salts_before(today)
    DayVisitor.objects.filter(day__lt=today).delete()
    for day in days:
        compact_day(day)
    roll_up_weeks(before=today)
    return days


COMPACT_KEEP = 100
OTHER = "(other)"
# The lists that grow with visits; the others (browsers, systems, devices, hours) stay short.
LONG_DIMENSIONS = (Dimension.PAGE, Dimension.REFERRER, Dimension.NETWORK)


def compact_day(day: datetime.date) -> None:
    """Folds each long list of a closed day beyond its COMPACT_KEEP largest values (ties by key) into OTHER.

    One DELETE … RETURNING takes the tail whatever its length (a busy day's networks are thousands of
    rows): what it returns is exactly what went, so a record ingested meanwhile is never lost.
    """
    table = DailyCount._meta.db_table
    dimensions = ", ".join(["%s"] * len(LONG_DIMENSIONS))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            # The outer day condition lets PostgreSQL find the rows by index, not scan the table.
            f"DELETE FROM {table} WHERE day = %s AND id IN (SELECT id FROM ("  # noqa: S608  (table name from model meta)  # nosec B608
            f"SELECT id, ROW_NUMBER() OVER (PARTITION BY dimension ORDER BY views DESC, key) AS place FROM {table} "
            f"WHERE day = %s AND dimension IN ({dimensions}) AND key <> %s) AS ranked WHERE place > %s) "
            "RETURNING dimension, views",
            [day, day, *LONG_DIMENSIONS, OTHER, COMPACT_KEEP],
        )
        folded: dict[str, int] = {}
        for dimension, views in cursor.fetchall():
            folded[dimension] = folded.get(dimension, 0) + views
        if folded:
            cursor.executemany(
                f"INSERT INTO {table} (day, dimension, key, views) VALUES (%s, %s, %s, %s) "  # noqa: S608  (table name from model meta)  # nosec B608
                f"ON CONFLICT (day, dimension, key) DO UPDATE SET views = {table}.views + excluded.views",
                [(day, dimension, OTHER, views) for dimension, views in folded.items()],
            )


def roll_up_weeks(*, before: datetime.date) -> list[datetime.date]:
    """Rolls up each week (Monday to Sunday) ended before `before` whose lists are missing or stale.

    A week's lists are the sums of its days' lists, compacted like a day's: a value outside a day's
    kept ones already counted under "(other)" that day, and one outside the week's kept ones now does
    for the week. `WeeklyTotal` keeps the views of the week's days at that moment; a late record of
    one of them (a spool left behind, an imported log) makes them differ, and the week is made again
    here, while the dashboard reads it day by day meanwhile. Returns the weeks (Mondays) made.
    """
    this_monday = before - datetime.timedelta(days=before.weekday())
    views: dict[datetime.date, int] = {}
    for day, day_views in DailyTotal.objects.filter(day__lt=this_monday).values_list("day", "views"):
        monday = day - datetime.timedelta(days=day.weekday())
        views[monday] = views.get(monday, 0) + day_views
    made = dict(WeeklyTotal.objects.values_list("week", "views"))
    stale = sorted(monday for monday, week_views in views.items() if made.get(monday) != week_views)
    for monday in stale:
        _roll_up_week(monday, views[monday])
    return stale


def _roll_up_week(monday: datetime.date, views: int) -> None:
    """The week's lists in one statement: its days' counts summed, each long list's values beyond its
    COMPACT_KEEP largest (ties by key) summed into OTHER with what the days had there already."""
    # `views` was read before the lists are summed: a record added in between leaves the week stale
    # (made again next time), never marked current while its lists miss something.
    long = ", ".join(["%s"] * len(LONG_DIMENSIONS))
    rank = (
        f"CASE WHEN dimension IN ({long}) AND key <> %s "
        "THEN ROW_NUMBER() OVER (PARTITION BY dimension, key = %s ORDER BY views DESC, key) ELSE 0 END"
    )
    kept = "CASE WHEN place > %s THEN %s ELSE key END"
    with transaction.atomic(), connection.cursor() as cursor:
        WeeklyCount.objects.filter(week=monday).delete()
        cursor.execute(
            f"INSERT INTO {WeeklyCount._meta.db_table} (week, dimension, key, views) "  # noqa: S608  (table names from model meta)  # nosec B608
            f"SELECT %s, dimension, {kept}, SUM(views) FROM (SELECT dimension, key, views, {rank} AS place FROM ("
            f"SELECT dimension, key, SUM(views) AS views FROM {DailyCount._meta.db_table} "
            f"WHERE day >= %s AND day <= %s GROUP BY dimension, key) AS summed) AS ranked GROUP BY 2, 3",
            [
                monday,
                COMPACT_KEEP,
                OTHER,
                *LONG_DIMENSIONS,
                OTHER,
                OTHER,
                monday,
                monday + datetime.timedelta(days=6),
            ],
        )
        WeeklyTotal.objects.update_or_create(week=monday, defaults={"views": views})


# Investigation (P2) ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    time: datetime.datetime
    method: str
    path: str
    status: int
    ip: str
    user_agent: str
    domain_name: str
    host: str
    referrer: str
    subject_id: uuid.UUID | None
    next_path: str


def search_records(
    *,
    actor: object,
    role: str,
    agency_id: int | None,
    purpose: str,
    case_reference: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    ip: str = "",
    path_prefix: str = "",
    subject_id: uuid.UUID | None = None,
) -> list[Found]:
    """Raw records matching the criteria, opened under their day keys; audited before anything is read.

    The audit entry is committed first (raksa.audit.actions.record_committed): if it cannot be
    written, nothing is returned.
    """
    if purpose not in SEARCH_PURPOSES:
        raise ValueError(f"unknown investigation purpose {purpose!r}")
    record_committed(
        action="accesslog.search",
        actor=actor,
        role=role,
        agency_id=agency_id,
        subject_id=subject_id,
        object_type="accesslog.search",
        object_id=case_reference,
        fields=SEARCH_FIELDS,
        purpose=purpose,
        legal_basis="pdpa_24_6",
    )
    first_day, last_day = local_today(starts_at), local_today(ends_at)
    records = AccessRecord.objects.filter(day__gte=first_day, day__lte=last_day, time__gte=starts_at, time__lt=ends_at)
    keys = daykeys.DayKeys()
    if path_prefix:
        records = records.filter(path__startswith=path_prefix)
    if subject_id is not None:
        records = records.filter(subject_id=subject_id)
    records = records.order_by("time", "id")
    if ip:
        # The IP's index differs every day: one look-up a day, in order (a day's records all come before
        # the next day's): the day's clients with that index (on their (day, ip_index) index), then their
        # records (on the records' client index). One query ORing every day's pair took PostgreSQL
        # longer to plan than to run, and read every partition for every pair. The day keys come first,
        # all in one key-store query.
        days = [first_day + datetime.timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
        keys.load(days)
        found: list[AccessRecord] = []
        for day in days:
            if len(found) >= SEARCH_LIMIT:
                break
            with contextlib.suppress(daykeys.DayShreddedError):  # a shredded day has nothing to find
                index = keys.for_reading(day).ip_index(ip)
                clients = list(DayClient.objects.filter(day=day, ip_index=index).values_list("id", flat=True))
                if clients:
                    found += records.filter(day=day, client_id__in=clients)[: SEARCH_LIMIT - len(found)]
    else:
        found = list(records[:SEARCH_LIMIT])
        keys.load({row.day for row in found})
    clients_of = {
        client.id: client
        for client in DayClient.objects.filter(day__in={r.day for r in found}, id__in={r.client_id for r in found})
    }
    names = {
        (name.day, name.ip_index): name
        for name in ReverseName.objects.filter(
            day__in={r.day for r in found}, ip_index__in={client.ip_index for client in clients_of.values()}
        )
    }
    following = _next_paths(found)
    results = []
    for row in found:
        try:
            opener = keys.for_reading(row.day)
        except daykeys.DayShreddedError:
            continue
        client = clients_of.get(row.client_id)
        if client is None:
            continue  # its client left with a purge of its day (a late record kept its old reference)
        reverse = names.get((row.day, client.ip_index))
        results.append(
            Found(
                time=row.time,
                method=row.method,
                path=row.path,
                status=row.status,
                ip=opener.unseal("ip", client.ip_sealed, client.ip_index),
                user_agent=opener.unseal("user_agent", client.user_agent_sealed, client.ip_index),
                domain_name=opener.unseal("domain_name", reverse.name_sealed, client.ip_index) if reverse else "",
                host=row.host,
                referrer=row.referrer,
                subject_id=row.subject_id,
                next_path=following.get(row.id, ""),
            )
        )
    return results


def _next_paths(found: list[AccessRecord]) -> dict[int, str]:
    """The page each found record's visitor asked for next that day (the Minburi policy's 'site visited
    next'), by record ID, for all of them in one query.

    A window over the found clients' records from the earliest found time on (on the records' client
    index; a client is one IP and browser string on one day, so the client alone makes the
    partition). The frame starts after the record's own time, all of it (EXCLUDE GROUP): "next" is a
    strictly later time, as a lookup record by record had it, never a request of the same millisecond.
    """
    if not found:
        return {}
    days = sorted({row.day for row in found})
    clients = sorted({row.client_id for row in found})
    ids = [row.id for row in found]
    table = AccessRecord._meta.db_table
    day_marks, client_marks, id_marks = (", ".join(["%s"] * len(values)) for values in (days, clients, ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, next_path FROM (SELECT id, FIRST_VALUE(path) OVER (PARTITION BY client_id ORDER BY time "  # noqa: S608  (table name from model meta)  # nosec B608
            "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS next_path "
            f"FROM {table} WHERE day IN ({day_marks}) AND time >= %s AND client_id IN ({client_marks})) AS visits "
            f"WHERE id IN ({id_marks})",
            [
                *(connection.ops.adapt_datefield_value(day) for day in days),
                connection.ops.adapt_datetimefield_value(min(row.time for row in found)),
                *clients,
                *ids,
            ],
        )
        return {record_id: next_path or "" for record_id, next_path in cursor.fetchall()}


def _actor_id(actor: object) -> uuid.UUID:
    return uuid.UUID(str(getattr(actor, "pk", actor)))
