"""Summarise a sweep: ``python -m seaSky.report DIR`` (DIR = a multirun dir).

Writes ``DIR/report.md``, ``DIR/report.csv`` (one row per job: its overrides, parameter count, best val
Dice, test Dice and accuracy, epochs, wall time, training throughput; sorted by the optimised metric,
failed jobs last) and ``DIR/report.png`` (test Dice against parameter count and against wall time).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

import yaml

from seaSky.errors import DataError, exit_on_error
from seaSky.io import atomic_write, write_csv

log = logging.getLogger(__name__)

COLUMNS = (
    "job",
    "status",
    "overrides",
    "params",
    "val/dice_best",
    "test/dice",
    "test/acc",
    "epochs",
    "wall_s",
    "train_images_per_s",
)


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Job folders of a multirun dir: those holding a ``.hydra`` folder, in job-number order."""
    jobs = [p for p in sweep_dir.iterdir() if (p / ".hydra").is_dir()]
    return sorted(jobs, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name))


def read_job(job: Path) -> dict:
    """One report row; a job without results.json is reported as failed, an interrupted one as such."""
    overrides_file = job / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
    row: dict = {"job": job.name, "overrides": " ".join(overrides or []), "status": "failed"}
    results_file = job / "results.json"
    if results_file.is_file():
        results = json.loads(results_file.read_text())
        row.update({key: results.get(key) for key in COLUMNS if key in results and key != "status"})
        row["status"] = "ok" if results.get("status", "completed") == "completed" else str(results["status"])
    return row


def optimized_metric(sweep_dir: Path, jobs: list[Path]) -> str:
    """The metric the sweep optimised (``optimized_metric`` of its jobs' config), else val/dice_best."""
    for job in jobs:
        config = job / ".hydra" / "config.yaml"
        if config.is_file():
            metric = (yaml.safe_load(config.read_text()) or {}).get("optimized_metric")
            if metric:
                return metric
    return "val/dice_best"


def _sort_key(row: dict, metric: str) -> tuple:
    value = row.get(metric)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return (row["status"] != "ok", missing, -(value or 0.0))


def build_report(sweep_dir: str | Path) -> list[dict]:
    """Write report.md, report.csv and report.png into ``sweep_dir``; return the rows."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise DataError(f"{sweep_dir}: not a directory")
    jobs = job_dirs(sweep_dir)
    if not jobs:
        raise DataError(f"{sweep_dir}: no job folders (with .hydra/) found; is it a multirun dir?")
    metric = optimized_metric(sweep_dir, jobs)
    rows = sorted((read_job(job) for job in jobs), key=lambda row: _sort_key(row, metric))
    # what differs between jobs (shown in the table and on the plot); what all share is said once
    split = [row["overrides"].split() for row in rows]
    common = [o for o in split[0] if all(o in job for job in split[1:])]
    for row, overrides in zip(rows, split, strict=True):
        row["varies"] = " ".join(o for o in overrides if o not in common)
    write_csv(sweep_dir / "report.csv", rows, COLUMNS)
    _write_markdown(sweep_dir / "report.md", rows, sweep_dir, metric, common)
    _plot(sweep_dir / "report.png", rows, sweep_dir.name)
    return rows


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def _write_markdown(path: Path, rows: list[dict], sweep_dir: Path, metric: str, common: list[str]) -> None:
    failed = sum(row["status"] != "ok" for row in rows)
    lines = [
        f"# Sweep report: {sweep_dir}",
        "",
        f"{len(rows)} jobs, {failed} failed; sorted by `{metric}` (best first), failed jobs last.",
        "",
        f"Overrides of every job: `{' '.join(common)}`" if common else "",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        shown = {**row, "overrides": row["varies"]}
        lines.append("| " + " | ".join(_fmt(shown.get(c)) for c in COLUMNS) + " |")
    lines += ["", "![test Dice against parameters and wall time](report.png)", ""]
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines)))


def _plot(path: Path, rows: list[dict], title: str) -> None:
    from seaSky.viz import plot_sweep

    done = [row for row in rows if row["status"] == "ok" and row.get("test/dice") is not None]
    plot_sweep(done, path, title=f"sweep {title}: {len(done)} of {len(rows)} jobs finished")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seaSky.report", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun dir, e.g. multirun/2026-11-25/14-20-00")
    args = parser.parse_args(argv)
    with exit_on_error(log):
        rows = build_report(args.sweep_dir)
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"{len(rows)} jobs ({failed} failed): {args.sweep_dir / 'report.md'}, report.csv, report.png")


if __name__ == "__main__":
    main()
