import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Modules of bench/ that serve the benchmarks rather than being one (retention_shapes: a measurement run by hand;
# request_cpu: the WSGI wrapper the load benchmark serves the journeys through).
SUPPORT = frozenset(
    {"harness", "child", "dataset", "scratch", "serving", "bare_django", "report", "retention_shapes", "request_cpu"}
)


class Command(BaseCommand):
    help = "Measures Raksa against the figures its issues name; prints a table and writes bench/results.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names",
            nargs="*",
            help="benchmarks to run (default: all in bench/); NAME:PART runs one part of a benchmark that has "
            "parts (its PARTS, e.g. accesslog:import)",
        )
        parser.add_argument("--small", action="store_true", help="a 1%% data set: a quick look, or CI's smoke run")
        parser.add_argument(
            "--rebuild-data", action="store_true", help="build the bench data set again even if a complete one exists"
        )
        parser.add_argument(
            "--output",
            help="where the results go (default: bench/results.json, kept in git, for the full run; "
            "var/bench/results-small.json for --small, whose timings are only a smoke test's)",
        )

    def handle(
        self, *args: object, names: list[str], small: bool, rebuild_data: bool, output: str | None, **options: object
    ) -> None:
        # bench/ sits beside the package, not inside it: benchmarks are not shipped.
        sys.path.insert(0, str(settings.BASE_DIR))
        from bench import dataset
        from bench import scratch as templates
        from bench.harness import SMOKE, Figure, table

        available = sorted(
            m.name for m in pkgutil.iter_modules([str(settings.BASE_DIR / "bench")]) if m.name not in SUPPORT
        )
        unknown = {name.partition(":")[0] for name in names} - set(available)
        if unknown:
            raise CommandError(f"unknown benchmarks: {', '.join(sorted(unknown))}; available: {', '.join(available)}")
        # A part (NAME:PART) runs alone, e.g. one figure measured again without the rest of its benchmark.
        parts: dict[str, set[str] | None] = {}  # None: the whole benchmark
        for name in names:
            module_name, _, part = name.partition(":")
            if not part:
                parts[module_name] = None
                continue
            known = getattr(importlib.import_module(f"bench.{module_name}"), "PARTS", ())
            if part not in known:
                raise CommandError(f"{module_name} has no part {part!r}; its parts: {', '.join(known) or 'none'}")
            chosen = parts.setdefault(module_name, set())
            if chosen is not None:
                chosen.add(part)
        started = time.time()
        scale = "small" if small else "full"
        if small:
            os.environ[SMOKE] = "1"
        # The templates of every fresh database, then (for a whole run) the data sets, timed on their
        # own: the benchmarks that use them then find them ready. Named benchmarks that need no data
        # set (passwords, vault) do not wait for one to be built.
        templates.prepare()
        if rebuild_data or not names:
            for each in (scale, dataset.baseline_of(scale)):
                dataset.ensure(each, rebuild=rebuild_data, log=self.stderr.write)
        figures: list[Figure] = []
        loads: list[float] = []
        timings: dict[str, float] = {}
        for name in parts or available:
            self.stderr.write(f"bench: {name}…")
            began = time.time()
            module = importlib.import_module(f"bench.{name}")
            chosen = parts.get(name)
            figures += module.run(small=small) if chosen is None else module.run(small=small, parts=chosen)
            timings[name] = round(time.time() - began, 1)
            loads.append(os.getloadavg()[0])
        self.stdout.write(table(figures))
        if output is None:
            output = str(settings.BASE_DIR / ("var/bench/results-small.json" if small else "bench/results.json"))
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(
            json.dumps(
                {
                    "small": small,
                    "seconds": round(time.time() - started, 1),
                    "benchmark_seconds": timings,
                    "data_sets": {
                        found.name: {
                            "counts": found.counts,
                            "build_seconds": round(found.seconds, 1),
                            "reused": found.reused,
                        }
                        for found in dataset.ensured()
                    },
                    "machine": {
                        "python": platform.python_version(),
                        "postgresql": dataset.server_version(),
                        "cpu": _cpu_model(),
                        "cores": os.cpu_count(),
                        "system": platform.platform(),
                        "load_average_after_each_benchmark": [round(load, 2) for load in loads],
                    },
                    "figures": [figure.as_dict() for figure in figures],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
