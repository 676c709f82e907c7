"""Raw access records (kept RAKSA_ACCESSLOG_RAW_DAYS), their day keys, legal holds and daily roll-ups.

On PostgreSQL the raw table and its clients are partitioned by day (migrations 0002 and 0005), so a
day leaves with DROP TABLE of its partitions; on SQLite it leaves in small batched deletes. Raw IPs
and browser strings are sealed once per client and day (`DayClient`) under the day's key, which
lives in the key store: destroying it unreadably shreds the day in every backup of the main
database too.
"""

import uuid

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext_lazy as _

from raksa.vault.routers import KEYSTORE_MODELS


class DaySealedField(models.BinaryField):
    """AES-256-GCM ciphertext under the day's key (raksa.accesslog.daykeys), bound to its day and IP index."""

    personal_data = True


class RowIdField(models.BigAutoField):
    """A BigAutoField that is, on SQLite, the table's plain rowid (`INTEGER PRIMARY KEY`) without
    AUTOINCREMENT, which reads and writes the `sqlite_sequence` row of its table for every inserted
    row: measured 0.8-0.9 µs of the 7-8 µs a raw record's insert costs, in the writer's lock. Without
    it a new ID is the largest one + 1, so an ID is given again only after the newest row is
    deleted (a purged day whose rows were the last ingested, a late import). Only for a table whose
    IDs nothing keeps: the records' (read within one query: the search's order and next pages), not
    the clients', which records point to. PostgreSQL's identity column is the same either way."""

    def db_type_suffix(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return None
        return super().db_type_suffix(connection)


class DayClient(models.Model):
    """One client (an IP address and a browser string) seen on one day: what every record of that client
    and day shares, stored once. Records point to it by `AccessRecord.client_id`.

    `digest` finds the day's client again in any ingester, across processes and restarts: a keyed hash
    of the IP and browser string under the day's key (raksa.accesslog.daykeys), unique per day, so two
    ingesters meeting the same new client at once make one row (`ON CONFLICT DO NOTHING`). IDs are
    given in arrival order, so the records' index on their client grows at its right edge.
    """

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(_("day"))
    digest = models.CharField(_("client key"), max_length=32)
    ip_sealed = DaySealedField(_("IP address (sealed)"))
    user_agent_sealed = DaySealedField(_("browser string (sealed)"))
    ip_index = models.CharField(_("IP index"), max_length=32)
    browser_family = models.CharField(_("browser"), max_length=50)
    browser_version = models.CharField(_("browser version"), max_length=20)
    os_family = models.CharField(_("operating system"), max_length=50)
    device_type = models.CharField(_("device type"), max_length=10)

    class Meta:
        verbose_name = _("access-log client")
        verbose_name_plural = _("access-log clients")
        constraints = [models.UniqueConstraint(fields=["day", "digest"], name="accesslog_one_client")]
        # The search by IP finds a day's clients by their IP index (random values: the day first keeps
        # each insert in that day's part of the index, one per client, not per record).
        indexes = [models.Index(fields=["day", "ip_index"], name="accesslog_client_day_ip")]

    def __str__(self) -> str:
        return f"{self.day} client {self.pk}"


class AccessRecord(models.Model):
    id = RowIdField(primary_key=True)
    day = models.DateField(_("day"))
    time = models.DateTimeField(_("time"))
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("page"), max_length=2000)
    status = models.PositiveSmallIntegerField(_("status"))
    bytes_sent = models.BigIntegerField(_("bytes sent"))
    duration_us = models.BigIntegerField(_("duration (µs)"))
    host = models.CharField(_("host requested"), max_length=255)
    referrer = models.CharField(_("referring page"), max_length=2000)
    # Not a foreign key: the record outlives nothing and must never block erasing a subject.
    subject_id = models.UUIDField(_("data subject"), null=True, blank=True)
    request_id = models.CharField(_("request ID"), max_length=32, blank=True)
    # The record's DayClient (same day). Not a foreign key either: its check would cost every insert,
    # and a client only ever leaves with its whole day.
    client_id = models.BigIntegerField(_("client"))

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        # Only what reads the table (docs/accesslog.md, "Indexes"): the search and the purge by day and
        # time (SQLite only: PostgreSQL's primary key (time, id, day) serves the search, migration 0007);
        # the search by IP (the day's clients found first) and the next page, by client (IDs
        # grow with arrival, so an insert lands near the index's right edge); the search and data
        # export by account, over the few signed-in rows only. Every index is paid on each ingested record.
        indexes = [
            models.Index(fields=["day", "time"], name="accesslog_record_day_time"),
            models.Index(fields=["client_id"], name="accesslog_record_client"),
            models.Index(
                fields=["subject_id"],
                name="accesslog_record_signed_in",
                condition=models.Q(subject_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"


class DayKey(models.Model):
    """The key of one day's raw records and the salt of its visitor keys, wrapped by the master key.

    The salt is destroyed when the day is over (visitors cannot be followed across days); the key
    when the day's records are purged (crypto-shredding). It lives in the key store.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    day = models.DateField(unique=True)
    wrapped_key = models.BinaryField()
    salt_id = models.UUIDField(default=uuid.uuid4, editable=False)
    wrapped_salt = models.BinaryField(null=True)
    master_key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("access-log day key")
        verbose_name_plural = _("access-log day keys")

    def __str__(self) -> str:
        return f"{self.day} (wrapped by {self.master_key_id})"


KEYSTORE_MODELS.add(("accesslog", "daykey"))


class ReverseName(models.Model):
    """The reverse-DNS name of one IP seen on one day, sealed under that day's key; '' when none."""

    day = models.DateField()
    ip_index = models.CharField(max_length=32)
    name_sealed = DaySealedField(_("domain name (sealed)"))
    resolved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "ip_index"], name="accesslog_one_reverse_name")]

    def __str__(self) -> str:
        return f"{self.day} {self.ip_index}"


class SpoolCursor(models.Model):
    """How far a spool file (or an imported log) has been ingested: the basis of exactly-once."""

    source = models.CharField(max_length=255, unique=True)
    last_sequence = models.BigIntegerField(default=0)
    offset = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_sequence}"


class LegalHold(models.Model):
    """Raw records in this time range are kept past their retention until the hold is released."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    case_reference = models.CharField(_("case reference"), max_length=64)
    placed_by_id = models.UUIDField()
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by_id = models.UUIDField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="accesslog_hold_range")
        ]

    def __str__(self) -> str:
        return f"{self.case_reference}: {self.starts_at:%Y-%m-%d}..{self.ends_at:%Y-%m-%d}"


class DailyTotal(models.Model):
    """Page views and unique visitors of one day (pseudonymous roll-up, no IP)."""

    day = models.DateField(unique=True)
    views = models.BigIntegerField(default=0)
    visitors = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.views} views, {self.visitors} visitors"


class Dimension(models.TextChoices):
    PAGE = "page", _("Pages")
    BROWSER = "browser", _("Browsers")
    OS = "os", _("Operating systems")
    DEVICE = "device", _("Devices")
    REFERRER = "referrer", _("Referring sites")
    HOUR = "hour", _("Hour of day")
    NETWORK = "network", _("Networks (IPv4 /24, IPv6 /48)")


class RolledUpCount(models.Model):
    """Page views by one value of a dimension over a period (a day, a week)."""

    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=500)
    views = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyCount(RolledUpCount):
    """Page views of one day by one value of a dimension, updated incrementally at each ingest."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "dimension", "key"], name="accesslog_one_count")]
        indexes = [models.Index(fields=["dimension", "day"], name="accesslog_count_dim_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key}: {self.views}"


class DayVisitor(models.Model):
    """The visitor keys already counted today; deleted with the day's salt."""

    day = models.DateField()
    visitor = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "visitor"], name="accesslog_one_day_visitor")]

    def __str__(self) -> str:
        return f"{self.day} {self.visitor}"


class WeeklyCount(RolledUpCount):
    """Page views of one week (Monday to Sunday) by one value of a dimension: the sum of its days'
    `DailyCount`, each long list compacted as a closed day's is, so a range reads a week as one list."""

    week = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "dimension", "key"], name="accesslog_one_week_count")]

    def __str__(self) -> str:
        return f"week of {self.week} {self.dimension}={self.key}: {self.views}"


class WeeklyTotal(models.Model):
    """The page views of a week's days when its `WeeklyCount` lists were made. A late record changes
    the days' views: the lists then no longer match and are read day by day until made again."""

    week = models.DateField(unique=True)
    views = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"week of {self.week}: {self.views} views"
