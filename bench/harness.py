"""What every benchmark shares: timing with warm-up and repeats, and the figures it reports.

A benchmark is a module in bench/ with `run(*, small: bool) -> list[Figure]`. Each figure compares
with its own baseline measured in the same run (this machine is shared and noisy), so goals are
mostly ratios; absolute goals are stated where the issue gives one.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Set by `raksa bench --small` for itself and every process it starts: the smoke run proves that each
# benchmark runs end to end, its timings are not judged, so each is sampled a few times, unwarmed.
SMOKE = "BENCH_SMOKE"
SMOKE_REPEAT = 3


def smoke() -> bool:
    return os.environ.get(SMOKE) == "1"


@dataclass(frozen=True)
class Timing:
    """Seconds per call over repeated runs."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def spread(self) -> float:
        """Relative spread (interquartile range over median), to judge how noisy a figure was."""
        if len(self.samples) < 4:
            return 0.0
        q1, _q2, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median if self.median else 0.0


def measure(
    fn: Callable[[], object],
    *,
    repeat: int = 7,
    warmup: int = 1,
    number: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time `fn` called `number` times per sample, after `warmup` untimed samples.

    `clock=time.process_time` measures the CPU time this process spent instead of the wall clock:
    on a machine shared with other work, the cost of the code itself.
    """
    if smoke():
        repeat, warmup = min(repeat, SMOKE_REPEAT), 0
    for _ in range(warmup):
        for _ in range(number):
            fn()
    samples = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - start) / number)
    return Timing(tuple(samples))


@dataclass(frozen=True)
class Figure:
    name: str
    measured: float
    # None: no goal, the figure is there for context (the measurement beside a baseline, say).
    goal: float | None
    unit: str
    # "max": the measured value must stay at or under the goal; "min": at or over it.
    direction: str = "max"
    detail: str = ""

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        return self.measured <= self.goal if self.direction == "max" else self.measured >= self.goal

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "info"}[self.passed]

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def table(figures: list[Figure]) -> str:
    rows = [("figure", "measured", "goal", "result", "detail")]
    for figure in figures:
        sign = "≤" if figure.direction == "max" else "≥"
        goal = "—" if figure.goal is None else f"{sign} {figure.goal:g} {figure.unit}"
        rows.append((figure.name, f"{figure.measured:.3g} {figure.unit}", goal, figure.result, figure.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_child(target: str, arguments: list[str], environment: dict[str, str]) -> Any:
    """Runs `target` ("module:function") with string arguments in a process of its own, with its own
    settings and databases (bench/child.py), and returns what the function returned, through JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", target, *arguments],
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{target} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
