import importlib
import json
import pkgutil
import platform
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Measures Raksa against the figures its issues name; prints a table and writes bench/results.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="benchmarks to run (default: all in bench/)")
        parser.add_argument("--small", action="store_true", help="a 1%% data set: a quick look, or CI's smoke run")
        parser.add_argument("--output", default=str(settings.BASE_DIR / "bench" / "results.json"))

    def handle(self, *args: object, names: list[str], small: bool, output: str, **options: object) -> None:
        # bench/ sits beside the package, not inside it: benchmarks are not shipped.
        sys.path.insert(0, str(settings.BASE_DIR))
        from bench.harness import Figure, table

        available = sorted(
            m.name for m in pkgutil.iter_modules([str(settings.BASE_DIR / "bench")]) if m.name != "harness"
        )
        unknown = set(names) - set(available)
        if unknown:
            raise CommandError(f"unknown benchmarks: {', '.join(sorted(unknown))}; available: {', '.join(available)}")
        figures: list[Figure] = []
        started = time.time()
        for name in names or available:
            self.stderr.write(f"bench: {name}…")
            module = importlib.import_module(f"bench.{name}")
            figures += module.run(small=small)
        self.stdout.write(table(figures))
        Path(output).write_text(
            json.dumps(
                {
                    "small": small,
                    "seconds": round(time.time() - started, 1),
                    "machine": {
                        "python": platform.python_version(),
                        "cpu": platform.processor(),
                        "system": platform.platform(),
                    },
                    "figures": [figure.as_dict() for figure in figures],
                },
                indent=2,
            )
        )
