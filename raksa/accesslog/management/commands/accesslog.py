import logging
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from raksa.accesslog import actions, ingest, rdns
from raksa.accesslog.importer import CutOffPassedError, import_logs
from raksa.core.retry import error_kind, retry_delay

logger = logging.getLogger(__name__)
# After failures in a row the ingester waits longer, up to this (a restart takes seconds).
LONGEST_RETRY_SECONDS = 10.0
# A maintenance (salts, purge) that failed is tried again this much later (ten minutes apart otherwise).
MAINTENANCE_RETRY_SECONDS = 60


class Command(BaseCommand):
    help = "The access log: ingest the spool, import web-server logs, purge expired days, resolve names."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        ingest_parser = commands.add_parser("ingest", help="move spooled records into the database")
        ingest_parser.add_argument(
            "--follow", action="store_true", help="keep ingesting (and maintaining) until stopped"
        )
        ingest_parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds with --follow")
        ingest_parser.add_argument(
            "--workers", type=int, default=1, help="processes that ingest spool files side by side (one per core)"
        )
        import_parser = commands.add_parser("import", help="import nginx/Apache combined-format logs (gzip too)")
        import_parser.add_argument("files", nargs="+", type=Path)
        import_parser.add_argument("--host", default="", help="the host name the log's requests were made to")
        import_parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes that share each file's batches (default: 2 on SQLite, 1 on PostgreSQL)",
        )
        commands.add_parser("purge", help="destroy the keys and records of days past retention (legal holds kept)")
        commands.add_parser("resolve", help="resolve the reverse-DNS names of recent IPs, in batches")

    def handle(self, *args: object, action: str, **options: object) -> None:
        if action == "ingest":
            self._ingest(
                follow=bool(options["follow"]),
                interval=float(options["interval"]),  # type: ignore[arg-type]
                workers=int(options["workers"]),  # type: ignore[call-overload]
            )
        elif action == "import":
            workers = options["workers"]
            self._import(
                list(options["files"]),  # type: ignore[call-overload]
                str(options["host"]),
                workers=None if workers is None else int(workers),  # type: ignore[call-overload]
            )
        elif action == "purge":
            self._maintain()
        elif action == "resolve":
            self.stdout.write(f"resolved {rdns.resolve_recent()} names")

    def _ingest(self, *, follow: bool, interval: float, workers: int) -> None:
        if follow and workers > 1 and ingest.can_fork():
            self._follow_in_processes(interval=interval, processes=workers)
        else:
            self._rounds(follow=follow, interval=interval, workers=workers)

    def _rounds(
        self,
        *,
        follow: bool,
        interval: float,
        workers: int = 1,
        maintain: bool = True,
        parent: int | None = None,
        each_round: Callable[[], object] = lambda: None,
    ) -> None:
        # The first round takes whatever earlier, killed workers left in the spool, and maintains at
        # once (monotonic time counts from boot: 0.0 would wait for a machine's tenth minute).
        last_maintenance = -math.inf
        failures = 0
        # A process forked to follow beside another ends with it (its parent changes when it dies).
        while parent is None or os.getppid() == parent:
            each_round()
            delay = interval
            try:
                report = ingest.ingest_spool(workers=workers)
                if report.records or report.broken or not follow:
                    self.stdout.write(
                        f"ingested {report.records} records from {report.files} spool files "
                        f"({report.deleted} finished, {len(report.broken)} broken lines)"
                    )
                    self.stdout.flush()  # followers share the output: whole lines, not a pipe's buffer
                failures = 0
            except DatabaseError as error:
                if not follow:
                    raise
                # A restarting database must not end the ingester: the web servers keep spooling, and
                # a batch whose transaction failed is read again from its committed cursor.
                failures += 1
                delay = retry_delay(failures, first=interval, longest=LONGEST_RETRY_SECONDS)
                logger.warning("access-log ingester: %s; trying again in %.1f s", error_kind(error), delay)
                connections.close_all()
            # Whatever the round did: a batch that fails at every round must not keep yesterday's visitor
            # salt alive (P1), nor expired days.
            if follow and maintain and time.monotonic() - last_maintenance > 600:
                try:
                    self._maintain()
                    last_maintenance = time.monotonic()
                except DatabaseError as error:
                    # Tried again in a minute, not at every round of an outage.
                    last_maintenance = time.monotonic() - 600 + MAINTENANCE_RETRY_SECONDS
                    logger.warning(
                        "access-log maintenance: %s; trying again in %d s", error_kind(error), MAINTENANCE_RETRY_SECONDS
                    )
                    connections.close_all()
            if not follow:
                return
            # Outside the handler: Ctrl-C while waiting must not print the error's chained message.
            time.sleep(delay)

    def _follow_in_processes(self, *, interval: float, processes: int) -> None:
        """This process follows (and maintains) while `processes - 1` forked ones follow beside it for
        as long as it lives, each over the spool files it claims first. Long-lived, so that none forks,
        connects and unwraps the day's key again every round; one that dies is forked again."""
        me = os.getpid()
        fork = multiprocessing.get_context("fork")
        ingest.warm_up_before_forking()
        beside: list[BaseProcess] = []

        def keep_beside() -> None:
            for ended in [process for process in beside if not process.is_alive()]:
                logger.warning("access-log ingester: a process ended (exit %s); forking another", ended.exitcode)
                beside.remove(ended)
            if len(beside) < processes - 1:
                connections.close_all()  # a forked copy of a connection is not one
            while len(beside) < processes - 1:
                process = fork.Process(
                    target=self._follow_beside, kwargs={"interval": interval, "parent": me}, daemon=True
                )
                # Ctrl-C held back across the fork (pending, not lost): arriving before the follower's
                # handler is in place, it ended the follower with multiprocessing's traceback (exit 1).
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
                try:
                    process.start()
                except OSError as error:  # out of memory or processes: this one ingests meanwhile
                    logger.warning("access-log ingester: cannot fork a follower (%s); trying again", error.strerror)
                    return
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                beside.append(process)

        self._rounds(follow=True, interval=interval, each_round=keep_beside)

    def _follow_beside(self, *, interval: float, parent: int) -> None:
        """A forked follower's life: rounds until its parent ends; Ctrl-C at the terminal (which
        reaches every process of the group) ends it quietly, its connections closed."""
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held back by the fork
            self._rounds(follow=True, interval=interval, maintain=False, parent=parent)
        except KeyboardInterrupt:
            pass
        finally:
            connections.close_all()

    def _maintain(self) -> None:
        salts = actions.destroy_past_salts()
        purge = actions.purge_expired_days()
        self.stdout.write(
            f"destroyed {len(salts)} past visitor salts; purged {len(purge.purged)} days; "
            f"{len(purge.held)} expired days kept under legal hold"
        )

    def _import(self, files: list[Path], host: str, *, workers: int | None) -> None:
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")

        def progress(path: Path, done: int, size: int) -> None:
            width = 30
            filled = width * done // size if size else width
            bar = f"\r{path.name} [{'#' * filled}{'.' * (width - filled)}] {100 * done // max(size, 1)}%"
            self.stderr.write(bar, ending="\n" if done >= size else "")
            self.stderr.flush()

        try:
            report = import_logs(files, host=host, progress=progress, workers=workers)
        except CutOffPassedError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"imported {report.imported} of {report.lines} lines "
            f"({report.skipped} already imported, {report.broken} broken)"
        )
        if report.refused:
            days = settings.RAKSA_ACCESSLOG_RAW_DAYS
            self.stdout.write(
                f"  refused: {report.refused} lines older than the {days} days raw access records are kept "
                "(RAKSA_ACCESSLOG_RAW_DAYS); they are not imported"
            )
        for name, number in report.broken_lines:
            self.stdout.write(f"  broken: {name} line {number}")
        if report.broken > len(report.broken_lines):
            self.stdout.write(f"  … and {report.broken - len(report.broken_lines)} more")
        for name in report.unfinished:
            self.stdout.write(
                f"  unfinished: {name} ends early or is damaged (compressed); the lines before were imported"
            )
        for name, number in report.waiting:
            self.stdout.write(f"  waiting: {name} line {number} has no newline yet; it is left for the next run")
