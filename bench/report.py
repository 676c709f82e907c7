"""The table of docs/PERFORMANCE.md, made from a results file: `python -m bench.report [FILE]`.

Prints Markdown (figure, measured, goal, result) from bench/results.json, or the file named, so that the
document shows the numbers the run wrote rather than numbers copied by hand.
"""

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def number(value: float) -> str:
    """Three significant figures, and thousands separated: 0.43, 9.25, 55.5, 384, 22,017."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(figures: list[dict]) -> str:
    lines = ["| figure | measured | goal | result |", "|---|---|---|---|"]
    for figure in figures:
        unit = figure["unit"]
        if figure["goal"] is None:
            goal = "—"
        else:
            sign = "≤" if figure["direction"] == "max" else "≥"
            goal = f"{sign} {number(figure['goal'])} {unit}"
        result = {True: "pass", False: "**FAIL**", None: "info"}[figure["passed"]]
        lines.append(f"| {figure['name']} | {number(figure['measured'])} {unit} | {goal} | {result} |")
    return "\n".join(lines)


def main(arguments: list[str]) -> None:
    results = json.loads(Path(arguments[0] if arguments else RESULTS).read_text())
    print(markdown(results["figures"]))


if __name__ == "__main__":
    main(sys.argv[1:])
