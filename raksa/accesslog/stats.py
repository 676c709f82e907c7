"""Usage statistics for the dashboard (P1), read from the daily roll-ups only: never a raw record.

Its cost follows the number of days and distinct values, not the number of visits. Charts are drawn
as server-rendered SVG geometry here, so the page makes no third-party request and needs no script.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.db import connection

from raksa.accesslog.actions import COMPACT_KEEP
from raksa.accesslog.daykeys import days_not_closed
from raksa.accesslog.models import DailyCount, DailyTotal, Dimension, WeeklyCount, WeeklyTotal

TOP = 10
CHART_WIDTH = 720
CHART_HEIGHT = 200
BAR_WIDTH = 360


@dataclass(frozen=True)
class Day:
    day: datetime.date
    views: int
    visitors: int


@dataclass(frozen=True)
class Bar:
    label: str
    views: int
    width: int


@dataclass
class Statistics:
    start: datetime.date
    end: datetime.date
    days: list[Day]
    tops: dict[str, list[Bar]] = field(default_factory=dict)

    @property
    def views(self) -> int:
        return sum(day.views for day in self.days)

    @property
    def visitors(self) -> int:
        """The sum of daily unique visitors: a person visiting on two days counts twice, by design."""
        return sum(day.visitors for day in self.days)

    @property
    def sections(self) -> list[tuple[str, str, list[Bar]]]:
        """(dimension, its translated label, its bars), in the order of Dimension."""
        return [(str(dimension), str(Dimension(dimension).label), bars) for dimension, bars in self.tops.items()]

    @property
    def peak(self) -> int:
        return max((day.views for day in self.days), default=0)

    def line(self, attribute: str) -> str:
        """SVG polyline points of one daily series, scaled to the chart."""
        if not self.days:
            return ""
        peak = self.peak or 1
        step = CHART_WIDTH / max(len(self.days) - 1, 1)
        return " ".join(
            f"{index * step:.1f},{CHART_HEIGHT - getattr(day, attribute) * CHART_HEIGHT / peak:.1f}"
            for index, day in enumerate(self.days)
        )

    @property
    def view_points(self) -> str:
        return self.line("views")

    @property
    def visitor_points(self) -> str:
        return self.line("visitors")


def statistics(start: datetime.date, end: datetime.date) -> Statistics:
    totals = {
        day: (views, visitors)
        for day, views, visitors in DailyTotal.objects.filter(day__gte=start, day__lte=end).values_list(
            "day", "views", "visitors"
        )
    }
    days = []
    day = start
    while day <= end:
        views, visitors = totals.get(day, (0, 0))
        days.append(Day(day, views, visitors))
        day += datetime.timedelta(days=1)
    result = Statistics(start=start, end=end, days=days)
    parts = _parts(days, days_not_closed(start, end))
    for dimension in Dimension:
        tops = _top(dimension, parts, 24 if dimension == Dimension.HOUR else TOP)
        if dimension == Dimension.HOUR:
            by_hour = dict(tops)
            tops = [(f"{hour:02d}", by_hour.get(f"{hour:02d}", 0)) for hour in range(24)]
        peak = max((total for _key, total in tops), default=0) or 1
        result.tops[dimension] = [
            Bar(label=key, views=total, width=round(total * BAR_WIDTH / peak)) for key, total in tops
        ]
    return result


@dataclass(frozen=True)
class Parts:
    """Where a range's top lists are read: whole weeks, closed days outside them, days still open."""

    weeks: list[datetime.date]
    closed: list[datetime.date]
    still_open: list[datetime.date]


def _parts(days: list[Day], still_open: list[datetime.date]) -> Parts:
    """A week wholly inside the range, all its days closed, is read from its weekly lists when they
    are current (`WeeklyTotal` equals its days' views now; `actions.roll_up_weeks`); other days alone."""
    views = {day.day: day.views for day in days}
    open_days = set(still_open)
    mondays = [
        day.day
        for day in days
        if day.day.weekday() == 0
        and day.day + datetime.timedelta(days=6) in views
        and not any(day.day + datetime.timedelta(days=n) in open_days for n in range(7))
    ]
    made = dict(WeeklyTotal.objects.filter(week__in=mondays).values_list("week", "views")) if mondays else {}
    weeks = [
        monday
        for monday in mondays
        if made.get(monday) == sum(views[monday + datetime.timedelta(days=n)] for n in range(7))
    ]
    in_weeks = {monday + datetime.timedelta(days=n) for monday in weeks for n in range(7)}
    closed = [day.day for day in days if day.day not in in_weeks and day.day not in open_days]
    return Parts(weeks=weeks, closed=closed, still_open=sorted(open_days))


def _top(dimension: str, parts: Parts, limit: int) -> list[tuple[str, int]]:
    """The dimension's `limit` keys with the most views over the range's parts.

    A closed day holds at most COMPACT_KEEP values and "(other)" (`actions.compact_day`), a rolled-up
    week as many (`actions.roll_up_weeks`); a day still open (today; yesterday until the follower
    closes it) can hold a value per visitor, so only its COMPACT_KEEP + 1 largest count here too, read
    by a bounded sort: every week or day adds at most that many rows, however busy.
    """
    selects: list[str] = []
    parameters: list[str | int | datetime.date] = []
    for table, column, periods in (
        (WeeklyCount._meta.db_table, "week", parts.weeks),
        (DailyCount._meta.db_table, "day", parts.closed),
    ):
        if periods:
            marks = ", ".join(["%s"] * len(periods))
            selects.append(f"SELECT key, views FROM {table} WHERE dimension = %s AND {column} IN ({marks})")  # noqa: S608  (table name from model meta)  # nosec B608
            parameters += [dimension, *periods]
    for day in parts.still_open:
        selects.append(
            f"SELECT key, views FROM (SELECT key, views FROM {DailyCount._meta.db_table} "  # noqa: S608  (table name from model meta)  # nosec B608
            "WHERE dimension = %s AND day = %s ORDER BY views DESC, key LIMIT %s) AS open_day"
        )
        parameters += [dimension, day, COMPACT_KEEP + 1]
    if not selects:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, SUM(views) AS total FROM ({' UNION ALL '.join(selects)}) AS kept "  # noqa: S608  (built above from table names)  # nosec B608
            "GROUP BY key ORDER BY total DESC, key LIMIT %s",
            [*parameters, limit],
        )
        return [(key, int(total)) for key, total in cursor.fetchall()]


def as_csv(stats: Statistics) -> str:
    """The daily series and every top list, in one CSV a spreadsheet opens."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "views", "visitors"])
    for day in stats.days:
        writer.writerow([day.day.isoformat(), day.views, day.visitors])
    for dimension, bars in stats.tops.items():
        writer.writerow([])
        writer.writerow([dimension, "views"])
        for bar in bars:
            writer.writerow([_safe_cell(bar.label), bar.views])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # A page path or referrer starting with = + - @ would run as a formula in a spreadsheet.
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value
