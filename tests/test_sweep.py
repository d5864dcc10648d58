"""Sweeps through the CLI, the sweep report, W&B offline runs read back, Optuna."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import TINY, make_cfg
from seaSky.report import build_report
from seaSky.train import train
from wandb_offline import history, records

# the CLI form of the tiny settings (no progress bar, CSV logger, 32x40 scenes)
CLI_TINY = [*TINY, "trainer.max_epochs=2"]


def _multirun(
    sweep_dir: Path, data_dir: Path, *overrides: str, base: list[str] = CLI_TINY
) -> subprocess.CompletedProcess:
    args = [*base, f"hydra.sweep.dir={sweep_dir}", f"data.cache_dir={data_dir}", *overrides]
    return subprocess.run(
        [sys.executable, "-m", "seaSky.train", "-m", *args],
        cwd=sweep_dir.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow  # four CLI jobs (27 s); the fast suite runs a sweep through the CLI below: make test-full
def test_2x2_sweep_through_the_cli_and_its_report(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    done = _multirun(sweep, tmp_path / "data", "model.depth=1,2", "model.base_channels=4,8")
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name for p in jobs] == ["0", "1", "2", "3"]
    for job in jobs:
        assert (job / ".hydra" / "config.yaml").is_file() and (job / "metrics.csv").is_file()
        assert json.loads((job / "results.json").read_text())["epochs"] == 2
        assert list((job / "checkpoints").glob("*.ckpt"))

    report = subprocess.run(
        [sys.executable, "-m", "seaSky.report", str(sweep)], capture_output=True, text=True, timeout=120
    )
    assert report.returncode == 0, report.stderr
    with open(sweep / "report.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows)
    best = [float(row["val/dice_best"]) for row in rows]
    assert best == sorted(best, reverse=True)
    by_job = {row["job"]: row for row in rows}
    assert int(by_job["0"]["params"]) < int(by_job["3"]["params"])  # depth 1 x 4 ch < depth 2 x 8 ch
    assert "model.depth=2 model.base_channels=8" in (sweep / "report.md").read_text()
    assert (sweep / "report.png").stat().st_size > 10_000


def test_a_failing_job_does_not_stop_the_sweep(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    done = _multirun(sweep, tmp_path / "data", "model.up=nearest,bilinear", "trainer.max_epochs=1")
    assert done.returncode != 0  # Hydra reports the failure at the end ...
    assert (sweep / "1" / "results.json").is_file()  # ... after running the job that came after it
    rows = build_report(sweep)
    assert [(row["job"], row["status"]) for row in rows] == [("1", "ok"), ("0", "failed")]
    assert "| 0 | failed | model.up=nearest |" in (sweep / "report.md").read_text()


def test_wandb_offline_run_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = make_cfg(tmp_path, tmp_path / "data", [*TINY, "logger=wandb", "trainer.max_epochs=2"])
    assert cfg.logger.wandb.mode == "offline" and "csv" in cfg.logger
    try:
        results = train(cfg)
    finally:
        import wandb

        wandb.finish()
    (run_file,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    rows = history(run_file)
    val_epochs = [row["trained_epochs"] for row in rows if "val/dice" in row]
    assert val_epochs == [0, 1, 2]  # epoch 0 = before training
    images = [row for row in rows if "val/predictions/filenames" in row]
    assert [row["trained_epochs"] for row in images][:3] == [0, 1, 2]
    media = list(run_file.parent.glob("files/media/images/**/*.png"))
    assert len(media) >= 3 * 5  # 5 validation images per epoch, with mask files beside them
    kinds = [record.WhichOneof("record_type") for record in records(run_file)]
    assert "artifact" in kinds  # the best checkpoint
    summary = {
        item.key: json.loads(item.value_json)
        for record in records(run_file)
        if record.WhichOneof("record_type") == "summary"
        for item in record.summary.update
    }
    assert summary["test/dice"] == pytest.approx(results["test/dice"])
    assert (tmp_path / "csv" / "metrics.csv").is_file()  # CSV beside W&B


@pytest.mark.slow
def test_optuna_two_trials(tmp_path: Path) -> None:
    sweep = tmp_path / "optuna"
    # the searched keys must not be fixed on the command line: that would take them out of the search
    base = [o for o in CLI_TINY if not o.startswith(("model.depth", "model.base_channels"))]
    done = _multirun(sweep, tmp_path / "data", "hparams_search=optuna", "hydra.sweeper.n_trials=2", base=base)
    assert done.returncode == 0, done.stderr[-3000:]
    found = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0.0 <= found["best_value"] <= 1.0
    assert set(found["best_params"]) == {
        "model.depth",
        "model.base_channels",
        "model.optimizer.lr",
        "model.loss",
    }
    assert len(build_report(sweep)) == 2


def test_wandb_run_is_finished_when_training_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb

    from conftest import write_scene
    from seaSky.train import main

    monkeypatch.setenv("WANDB_MODE", "offline")
    root = tmp_path / "frames"
    for i in range(10):
        write_scene(root / "images", root / "masks", f"f{i:02d}", seed=i)
    (root / "masks" / "f03.png").write_bytes(b"broken")  # fails in setup, after the W&B run started
    cfg = make_cfg(tmp_path, tmp_path, ["logger=wandb", "data=folder", f"data.root={root}"])
    with pytest.raises(SystemExit) as exit_info:
        main(cfg)  # the Hydra entry point, given a composed config, runs the job in this process
    assert exit_info.value.code == 2
    assert wandb.run is None  # finished, so the next job of a sweep starts a fresh run
    (run_file,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    assert "exit" in [record.WhichOneof("record_type") for record in records(run_file)]


def test_report_rows_say_which_jobs_were_interrupted(tmp_path: Path) -> None:
    from seaSky.report import read_job

    for name, results in (("0", {"status": "completed", "test/dice": 0.9}), ("1", {"status": "interrupted"})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(results))
    (tmp_path / "2").mkdir()
    assert [read_job(tmp_path / n)["status"] for n in ("0", "1", "2")] == ["ok", "interrupted", "failed"]
