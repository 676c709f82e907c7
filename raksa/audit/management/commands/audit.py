"""`raksa audit chain | checkpoint | verify`: the sequencer, signed checkpoints, and the auditor's check."""

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from raksa.audit.chain import Sequencer, chain_pending
from raksa.audit.checkpoints import write_checkpoint
from raksa.audit.verify import verify
from raksa.core.retry import error_kind, retry_delay

logger = logging.getLogger(__name__)
# After failures in a row the sequencer waits longer, up to this (a restart takes seconds).
LONGEST_RETRY_SECONDS = 10.0


class Command(BaseCommand):
    help = "The audit log: run the sequencer, write a signed checkpoint, or verify the whole log."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        chain = commands.add_parser("chain", help="chain every committed entry (the one sequencer)")
        chain.add_argument("--follow", action="store_true", help="keep chaining until stopped")
        chain.add_argument("--interval", type=float, default=0.2, help="seconds between rounds with --follow")
        chain.add_argument(
            "--checkpoint-every",
            type=float,
            default=600,
            metavar="SECONDS",
            help="with --follow, also write a signed checkpoint this often (0: never)",
        )
        commands.add_parser("checkpoint", help="chain what is pending, then sign the chain's end")
        check = commands.add_parser("verify", help="recompute the chain and check it against the checkpoints")
        check.add_argument(
            "--checkpoints",
            type=Path,
            metavar="FILE",
            help="the checkpoint file the operator kept (default: RAKSA_AUDIT_CHECKPOINT_FILE, if it exists)",
        )
        check.add_argument(
            "--max-unchained-seconds",
            type=int,
            default=300,
            metavar="N",
            help="an entry committed longer ago than this and still unchained is a failure (default 300)",
        )
        check.add_argument(
            "--public-key",
            action="append",
            default=[],
            help="trust checkpoints signed by this base64url Ed25519 public key (repeatable; default: "
            "the key of RAKSA_AUDIT_SIGNING_KEY)",
        )

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        if command == "chain":
            self.chain(follow=options["follow"], interval=options["interval"], every=options["checkpoint_every"])
        elif command == "checkpoint":
            chain_pending()
            checkpoint = write_checkpoint()
            if checkpoint is None:
                self.stdout.write("Nothing is chained yet: no checkpoint written.")
            else:
                self.stdout.write(f"Checkpoint at entry #{checkpoint.sequence}: {checkpoint.hash}")
        else:
            self.verify(
                checkpoints=options["checkpoints"],
                max_unchained=options["max_unchained_seconds"],
                public_keys=options["public_key"],
            )

    def chain(self, *, follow: bool, interval: float, every: float) -> None:
        # One sequencer for the whole loop: it remembers where it stopped and which ids are still open.
        sequencer = Sequencer()
        if not follow:
            self.stdout.write(f"Chained {sequencer.chain_pending()} entries.")
            return
        last_checkpoint = time.monotonic()
        failures = 0
        while True:
            delay = interval
            try:
                sequencer.chain_pending()
                if every and time.monotonic() - last_checkpoint >= every:
                    write_checkpoint()
                    last_checkpoint = time.monotonic()
                failures = 0
            except DatabaseError as error:
                # A database restarting, or not up yet when the sequencer starts, must not end the one
                # sequencer; verify reports a long wait.
                failures += 1
                delay = retry_delay(failures, first=interval, longest=LONGEST_RETRY_SECONDS)
                logger.warning("audit sequencer: %s; trying again in %.1f s", error_kind(error), delay)
                connections.close_all()
                sequencer = Sequencer()
            # Outside the handler: Ctrl-C while waiting must not print the error's chained message.
            time.sleep(delay)

    def verify(self, *, checkpoints: Path | None, max_unchained: int, public_keys: list[str]) -> None:
        if checkpoints is not None and not checkpoints.exists():
            raise CommandError(f"no checkpoint file at {checkpoints}")
        default_file = settings.RAKSA_AUDIT_CHECKPOINT_FILE
        file = checkpoints or (default_file if default_file.exists() else None)
        try:
            result = verify(
                checkpoint_file=file,
                max_unchained=timedelta(seconds=max_unchained),
                trusted_keys=set(public_keys) or None,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not result.sound:
            raise CommandError(f"The audit log is NOT sound: {result.problem}")
        end = f"ending at #{result.end.sequence} {result.end.hash}" if result.end else "empty"
        if result.start is not None:
            end += f", starting after the signed checkpoint at #{result.start.sequence} (a removed sealed segment)"
        self.stdout.write(
            f"The audit log is sound: {result.entries} entries chained, {end}; "
            f"{result.checkpoints} signed checkpoints agree ({file or 'no checkpoint file'}); "
            f"{result.unchained} recent entries wait for the sequencer."
        )
