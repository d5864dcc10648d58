"""Scale-out: DDP on 2 CPU processes through the real CLI (metrics reduced over both processes), and the
SLURM launcher's job shape (hydra/launcher=slurm) down to the sbatch script it would submit."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import hydra
import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, Subset

from conftest import TINY, make_cfg, run_cli
from seaSky.model.module import SeaSkyModule

# 60 easy scenes: 48 train, 6 val, 6 test. Even val/test sizes: the DistributedSampler of 2 processes
# splits them without padding (an odd split would count its first image twice).
DDP_TINY = [
    *(o for o in TINY if not o.startswith("data.n=")),
    "data.n=60",
    "preset=easy",
    "model.optimizer.lr=0.01",
    "trainer.precision=32-true",
]
KEYS = ("dice", "acc", "iou", "horizon_dy_median_px", "horizon_dangle_median_deg")


def _scores(trainer: L.Trainer, module: SeaSkyModule, stage: str, **kwargs: object) -> dict[str, float]:
    """``{key: value}`` of one validate/test run of ``module`` on one process."""
    run = trainer.validate if stage == "val" else trainer.test
    logged = run(module, verbose=False, **kwargs)[0]
    return {k: float(logged[f"{stage}/{k}"]) for k in KEYS if f"{stage}/{k}" in logged}


def _rel(key: str, counts: float) -> float:
    """Relative tolerance: Dice, accuracy and IoU come from pixel counts (exact up to the rounding of
    metrics.csv); a horizon line is fitted on probabilities, which differ in the last float bits
    between batches of 3 (one process's share) and of 6 images."""
    return 1e-4 if key.startswith("horizon") else counts


def test_ddp_on_two_cpu_processes_logs_the_metrics_of_the_whole_split(tmp_path: Path, data_dir: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(
        "train",
        *DDP_TINY,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=2",
        f"paths.data_dir={data_dir}",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        timeout=240,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "MEMBER: 2/2" in out and (run_dir / "train_ddp_process_1.log").is_file()  # really 2 processes
    assert "sync_dist=True" not in out  # every epoch-level value is logged as a global one
    results = json.loads((run_dir / "results.json").read_text())
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]

    # the same weights, the same splits, one process
    datamodule = hydra.utils.instantiate(make_cfg(tmp_path / "one", data_dir, DDP_TINY).data)
    datamodule.prepare_data()
    datamodule.setup("validate")
    assert len(datamodule.datasets["val"]) == len(datamodule.datasets["test"]) == 6
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False)
    # the best checkpoint, saved right after the validation that made it the best (last.ckpt is no
    # help: Lightning 2.6 rewrites it only when a top-k checkpoint is saved)
    best = SeaSkyModule.load_from_checkpoint(results["ckpt_best"], map_location="cpu")
    val = _scores(trainer, best, "val", datamodule=datamodule)
    test = _scores(trainer, best, "test", datamodule=datamodule)
    assert set(val) == set(test) == set(KEYS)
    assert 0.3 < val["dice"] < 1.0, val  # a model that learned something, not a trivial Dice

    # that validation in the fit loop (2 processes, 3 images each; metrics.csv keeps 6 digits)
    assert results["val/dice_best"] == pytest.approx(val["dice"], rel=1e-6)
    row = rows[torch.load(results["ckpt_best"], weights_only=True)["epoch"] + 1]  # rows: epochs trained
    for key in KEYS:
        assert float(row[f"val/{key}"]) == pytest.approx(val[key], rel=_rel(key, 1e-5), nan_ok=True), key
    # its test (2 processes) in results.json
    for key in KEYS:
        assert results[f"test/{key}"] == pytest.approx(test[key], rel=_rel(key, 1e-6), nan_ok=True), key

    # and a process's own half (DistributedSampler: images 0, 2, 4 / 1, 3, 5) scores differently, so
    # logging rank 0's values alone would have failed the checks above
    val_set = datamodule.datasets["val"]
    halves = [
        _scores(
            trainer, best, "val", dataloaders=DataLoader(Subset(val_set, range(rank, 6, 2)), batch_size=8)
        )
        for rank in (0, 1)
    ]
    for key in ("dice", "horizon_dy_median_px"):
        assert any(half[key] != pytest.approx(val[key], abs=1e-4, nan_ok=True) for half in halves), key


@pytest.mark.slow
def test_ddp_takes_its_ranks_from_slurm(tmp_path: Path, data_dir: Path) -> None:
    # what `srun --ntasks-per-node=2 python -m seaSky.train trainer=ddp ...` starts: two tasks with
    # SLURM's variables; Lightning must join them (not start processes of its own) in one run dir
    run_dir = tmp_path / "run"
    args = [
        *DDP_TINY,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=1",
        f"paths.data_dir={data_dir}",
        f"hydra.run.dir={run_dir}",
    ]
    slurm = {"SLURM_NTASKS": "2", "SLURM_NTASKS_PER_NODE": "2", "SLURM_NNODES": "1", "SLURM_NODEID": "0"}
    slurm |= {"SLURM_JOB_ID": "4242", "SLURM_JOB_NAME": "train", "SLURM_NODELIST": "localhost"}
    tasks = [
        subprocess.Popen(
            [sys.executable, "-m", "seaSky.train", *args],
            cwd=tmp_path,
            env={**os.environ, **slurm, "SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    outs = [task.communicate(timeout=240)[0] for task in tasks]
    for rank, (task, out) in enumerate(zip(tasks, outs, strict=True)):
        assert task.returncode == 0, out[-3000:]
        assert f"GLOBAL_RANK: {rank}, MEMBER: {rank + 1}/2" in out
    assert not (run_dir / "train_ddp_process_1.log").exists()  # Lightning started no process itself
    assert 0.0 <= json.loads((run_dir / "results.json").read_text())["test/dice"] <= 1.0


@pytest.mark.parametrize(
    ("trainer", "nodes", "tasks"),
    [
        (["trainer=gpu"], 1, 1),
        (["trainer=ddp"], 1, 2),
        (["trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2"], 2, 4),
    ],
)
def test_slurm_launcher_shapes_each_job_after_the_trainer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trainer: list[str], nodes: int, tasks: int
) -> None:
    import submitit

    # submitit's SLURM executor only needs an `srun` on PATH to start; nothing is submitted here
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    executors: list = []

    def capture(executor: submitit.AutoExecutor, fn: object, *iterables: object) -> list:
        executors.append(executor)
        return []

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", capture)
    overrides = [
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "hydra.job.name=train",
        *trainer,
    ]
    cfg = make_cfg(tmp_path, tmp_path, overrides)
    launcher = hydra.utils.instantiate(cfg.hydra.launcher)
    launcher.setup(hydra_context=None, task_function=None, config=cfg)
    launcher.launch([["model.depth=3"], ["model.depth=4"]], initial_job_idx=0)

    (executor,) = executors
    sbatch = executor._executor._make_submission_file_text("python -m submitit.core._submit", "x")
    for line in (
        f"--nodes={nodes}",
        f"--ntasks-per-node={tasks}",
        f"--gpus-per-node={tasks}",
        "--partition=gpu",
        "--time=240",
        "--cpus-per-task=8",
        "--mem=64GB",
        "--job-name=train",
        "--signal=USR2@120",
    ):
        assert f"#SBATCH {line}\n" in sbatch, (line, sbatch)
    assert f"{tmp_path / 'sweep'}/.submitit/%j" in sbatch


@pytest.mark.slow
def test_submitit_local_runs_a_two_job_sweep(tmp_path: Path, data_dir: Path) -> None:
    sweep = tmp_path / "sweep"
    done = run_cli(
        "train",
        "-m",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        *TINY,
        "trainer.max_epochs=1",
        "model.base_channels=4,8",
        f"paths.data_dir={data_dir}",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    params = [json.loads((sweep / str(job) / "results.json").read_text())["params"] for job in (0, 1)]
    assert params[0] < params[1]  # each job ran with its own override
    assert list((sweep / ".submitit").glob("*/*_log.out"))  # and through submitit
