"""`raksa retention plan|run [--follow]`: what the retention engine ends today, and ending it."""

import datetime
import logging
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.utils import timezone

from raksa.audit.segments import SegmentRefusedError
from raksa.core.retry import error_kind, retry_delay
from raksa.organisations.models import Agency
from raksa.retention import engine
from raksa.retention.actions import BATCH_SIZE, RetentionRunningError, run_retention

logger = logging.getLogger(__name__)
# After a database error a following run tries again this soon, not a day later (doubling with each
# failure in a row, up to the longest).
RETRY_SECONDS = 60.0
LONGEST_RETRY_SECONDS = 900.0


class Command(BaseCommand):
    help = "Shows (plan) or ends (run) the records whose retention period is over; legal holds keep theirs."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        plan = commands.add_parser(
            "plan", help="a dry run: what would end today, by store and agency, and what each hold keeps"
        )
        plan.add_argument("--rule", action="append", default=[], help="only this rule (its code); repeatable")
        run = commands.add_parser("run", help="end the records past their period, in short batches")
        run.add_argument("--rule", action="append", default=[], help="only this rule (its code); repeatable")
        run.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        run.add_argument(
            "--follow", action="store_true", help="keep going: run now, then once a day (for `make run` and production)"
        )
        run.add_argument("--every-hours", type=float, default=24.0, help="with --follow: hours between runs")
        run.add_argument(
            "--owner",
            action="store_true",
            help="also the steps only the tables' owner can take (whole audit segments): connect as the owner",
        )

    def handle(self, *args: object, **options: object) -> None:
        only: tuple[str, ...] = tuple(options["rule"])  # type: ignore[arg-type]
        if options["command"] == "plan":
            self._plan(only)
            return
        batch_size = int(options["batch_size"])  # type: ignore[call-overload]
        failures = 0
        while True:
            try:
                self._run(only, batch_size, owner=bool(options["owner"]))
            except (DatabaseError, RetentionRunningError) as error:
                if not options["follow"]:
                    if isinstance(error, RetentionRunningError):
                        raise CommandError("another retention run is going: this one ended nothing") from None
                    raise
                # A database restarting (or not up yet) must not end the daily run, nor another run
                # (of other rules, perhaps) make it wait a day; a stopped run resumes where it stopped
                # (what a batch left for the key store is finished first).
                failures += 1
                delay = retry_delay(failures, first=RETRY_SECONDS, longest=LONGEST_RETRY_SECONDS)
                logger.warning("retention run: %s; trying again in %.0f s", error_kind(error), delay)
                connections.close_all()
            else:
                failures = 0
                if not options["follow"]:
                    return
                delay = float(options["every_hours"]) * 3600  # type: ignore[arg-type]
            # Outside the handler: Ctrl-C while waiting must not print the error's chained message.
            time.sleep(delay)

    def _plan(self, only: tuple[str, ...]) -> None:
        now = timezone.now()
        names = dict(Agency.objects.values_list("id", "slug"))
        self.stdout.write(f"Retention plan at {now:%Y-%m-%d %H:%M} UTC (a dry run: nothing is changed)")
        for plan in engine.plan(now=now, only=only):
            rule = plan.rule
            self.stdout.write(
                f"\n{rule.code}  {rule.label_en}: {rule.ending}, {plan.period.text('en')} [{plan.period.source}]"
            )
            if not plan.by_agency:
                self.stdout.write("  nothing due")
            for agency_id, count in sorted(plan.by_agency.items(), key=lambda item: item[0] or 0):
                self.stdout.write(f"  {names.get(agency_id, 'platform') if agency_id else 'platform'}: {count}")
            for day, count in plan.by_day.items():
                self.stdout.write(f"    day {day:%Y-%m-%d}: {count}")
            if rule.run_by:
                self.stdout.write(f"  not run by `retention run`: ended by `{rule.run_by}`")
            for description, count in plan.own_held:
                self.stdout.write(f"  kept by {description}: {count}")
            if rule.owner_only:
                self.stdout.write(f"  not run by `retention run`: {rule.owner_only}")
            if plan.warnings:
                self.stdout.write(f"  people to warn first: {plan.warnings}")
            for held in plan.held:
                self.stdout.write(f"  kept by legal hold {held.hold.pk} (until {held.hold.ends_on}): {held.rows}")

    def _run(self, only: tuple[str, ...], batch_size: int, *, owner: bool) -> None:
        started = datetime.datetime.now(datetime.UTC)
        try:
            outcomes = run_retention(only=only, batch_size=batch_size, owner=owner)
        except SegmentRefusedError as error:
            raise CommandError(str(error)) from None
        seconds = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
        for outcome in outcomes:
            if outcome.total or outcome.warned or outcome.keys_destroyed or outcome.people_left:
                left = (
                    f", {outcome.people_left} people's keys left for the next run (busy)" if outcome.people_left else ""
                )
                self.stdout.write(
                    f"{outcome.rule.code}: {outcome.total} ended, {outcome.warned} warned, "
                    f"{outcome.keys_destroyed} keys destroyed{left}"
                )
        total = sum(outcome.total for outcome in outcomes)
        self.stdout.write(f"Retention run ended {total} record(s) in {seconds:.1f} s.")
        self.stdout.flush()  # a following run sleeps for a day: its report must not wait in a buffer
