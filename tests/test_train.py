"""Training through the real Hydra config: composition, fast_dev_run, a tiny run that learns, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import TINY, make_cfg
from seaSky.config import resolved_config
from seaSky.paths import CONFIG_DIR
from seaSky.train import train

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
@pytest.mark.parametrize("model", ["unet", "smp_unet"])
def test_experiments_compose_and_instantiate(tmp_path: Path, experiment: str, model: str) -> None:
    import hydra

    folder = experiment == "finetune"  # made for a folder of the user's frames
    extra = [f"data.root={tmp_path}"] if folder else []
    cfg = make_cfg(tmp_path, tmp_path, [f"experiment={experiment}", f"model={model}", *extra])
    resolved_config(cfg)
    module = hydra.utils.instantiate(cfg.model)
    assert module.num_parameters > 0
    datamodule = hydra.utils.instantiate(cfg.data)
    assert datamodule.root == tmp_path if folder else datamodule.root.parent == tmp_path / "synthetic"


def test_every_config_group_option_composes(tmp_path: Path) -> None:
    for group in ("trainer", "callbacks", "logger", "debug", "preset", "hparams_search"):
        for option in sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml")):
            resolved_config(make_cfg(tmp_path, tmp_path, [f"{group}={option}"]))


def test_fast_dev_run(tmp_path: Path, data_dir: Path) -> None:
    cfg = make_cfg(tmp_path, data_dir, [*TINY, "debug=fdr"])
    results = train(cfg)
    assert set(results) >= {"test/dice", "test/acc", "test/iou", "test/loss", "params", "wall_s"}
    assert json.loads((tmp_path / "results.json").read_text())["params"] == results["params"]


def test_tiny_training_learns_and_writes_its_outputs(tmp_path: Path, data_dir: Path) -> None:
    # the easy preset: at 32x40 and 38 training scenes, the default preset's coasts, fog and all-sea or
    # all-sky views leave too little to learn in 4 epochs for a stable check
    overrides = [*TINY, "preset=easy", "trainer.max_epochs=4", "model.optimizer.lr=0.01"]
    results = train(make_cfg(tmp_path, data_dir, overrides))
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]
    dice = [float(r["val/dice"]) for r in rows]
    assert max(dice[1:]) > dice[0] + 0.05, f"val Dice did not rise above its epoch-0 value: {dice}"
    assert results["val/dice_best"] == pytest.approx(max(dice[1:]), abs=1e-6)
    # accuracy is a real number consistent with Dice, never 0.00 (the tutorial's bug)
    assert 0.5 < results["test/acc"] <= 1.0 and 0.0 < results["test/dice"] <= 1.0
    assert Path(results["ckpt_best"]).is_file()
    best_epoch = 1 + int(np.argmax(dice[1:]))  # named by epochs trained, as metrics.csv counts them
    assert Path(results["ckpt_best"]).name.startswith(f"epoch{best_epoch:03d}-")
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert results["train_seconds"] > 0 and results["train_images_per_s"] > 0
    for picture, min_width in (("curves.png", 800), ("predictions.png", 800)):
        image = cv2.imread(str(tmp_path / picture))
        assert image is not None and image.shape[1] >= min_width, picture
    saved = json.loads((tmp_path / "results.json").read_text())
    for key in ("test/dice", "test/acc", "test/iou", "test/loss", "val/dice_best", "ckpt_best", "params"):
        assert key in saved
    # the cache was rendered once and is reused (its completion marker is not rewritten)
    stamps = {p: (p / "dataset.json").stat().st_mtime_ns for p in (data_dir / "synthetic").iterdir()}
    train(make_cfg(tmp_path / "again", data_dir, [*overrides, "debug=fdr"]))
    assert {p: (p / "dataset.json").stat().st_mtime_ns for p in (data_dir / "synthetic").iterdir()} == stamps


def test_checkpoint_restores_itself(tmp_path: Path, data_dir: Path) -> None:
    from seaSky.model.module import SeaSkyModule

    cfg = make_cfg(tmp_path, data_dir, [*TINY, "trainer.max_epochs=1"])
    results = train(cfg)
    module = SeaSkyModule.load_from_checkpoint(results["ckpt_best"], map_location="cpu")
    assert module.hparams.depth == 2 and module.num_parameters == results["params"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seaSky.train", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow  # three CLI starts (20 s); bad keys are also checked in test_reliability: make test-full
def test_cli_help_cfg_and_unknown_key(tmp_path: Path) -> None:
    assert "experiment" in _cli("--help", cwd=tmp_path).stdout
    job = _cli("experiment=baseline", "--cfg", "job", cwd=tmp_path)
    assert job.returncode == 0 and "base_channels" in job.stdout
    bad = _cli("experiment=baseline", "model.depthh=3", cwd=tmp_path)
    assert bad.returncode != 0 and "depthh" in bad.stderr


@pytest.mark.slow  # a CLI training run (11 s); folders train in-process in test_finetune and test_data_safety
def test_cli_trains_on_a_folder_of_8bit_frames_of_another_size(tmp_path: Path) -> None:
    from conftest import write_scene

    root = tmp_path / "frames"
    for i in range(24):
        write_scene(root / "images", root / "masks", f"frame{i:02d}", size=(36, 48), seed=i)
    run_dir = tmp_path / "run"
    done = _cli(
        "experiment=baseline",
        "data=folder",
        f"data.root={root}",
        "data.image_size=[32,40]",
        "model.depth=2",
        "model.base_channels=4",
        "trainer.max_epochs=1",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert 0.0 <= results["test/dice"] <= 1.0
    assert str(run_dir) in done.stdout + done.stderr


def test_cli_bad_data_gives_one_message_per_problem(tmp_path: Path) -> None:
    from conftest import write_scene

    root = tmp_path / "frames"
    for i in range(10):
        write_scene(root / "images", root / "masks", f"frame{i:02d}", seed=i)
    (root / "masks" / "frame03.png").write_bytes(b"broken")
    done = _cli("data=folder", f"data.root={root}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert done.returncode == 2
    out = done.stdout + done.stderr
    assert "frame03.png: cannot be read as a mask" in out
    assert "Traceback" not in out


def test_checkpoint_loads_with_weights_only_and_keeps_preprocessing(tmp_path: Path, data_dir: Path) -> None:
    import torch

    results = train(make_cfg(tmp_path, data_dir, [*TINY, "trainer.max_epochs=1"]))
    ckpt = torch.load(results["ckpt_best"], map_location="cpu", weights_only=True)
    data = ckpt["datamodule_hyper_parameters"]
    assert data["image_size"] == [32, 40] and data["normalize"]["mode"] == "percentile"
    assert ckpt["hyper_parameters"]["arch"] == "unet"


def test_horizon_errors_are_logged_when_the_data_has_horizon_truth(tmp_path: Path, data_dir: Path) -> None:
    results = train(make_cfg(tmp_path, data_dir, [*TINY, "trainer.max_epochs=2", "model.optimizer.lr=0.01"]))
    for key in ("test/horizon_dy_median_px", "test/horizon_dangle_median_deg", "test/horizon_within_2px"):
        assert key in results
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert all("val/horizon_dy_median_px" in row for row in rows)


def test_no_horizon_metrics_without_horizon_truth(tmp_path: Path, ir_folder: Path) -> None:
    folder_tiny = [o for o in TINY if not o.startswith(("data.n=", "data.render_size", "data.workers"))]
    overrides = [*folder_tiny, "data=folder", f"data.root={ir_folder}", "trainer.max_epochs=1"]
    results = train(make_cfg(tmp_path, tmp_path, overrides))
    assert "test/dice" in results and not any("horizon" in key for key in results)


def test_training_clock_leaves_out_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from seaSky import callbacks

    # epoch 1: three batches from 0 s, validation from 2 s; epoch 2, cut short after one batch
    # (max_steps): 20 s to 21 s. The clock reads the time only at these four moments.
    now = iter([0.0, 2.0, 20.0, 21.0])
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: next(now))
    batch = {"image": torch.zeros(8, 1, 4, 5)}
    clock = callbacks.TrainingClock()
    for i in range(3):
        clock.on_train_batch_start(None, None, batch, i)  # starts the clock at the first batch only
        clock.on_train_batch_end(None, None, None, batch, i)
    clock.on_validation_epoch_start(None, None)
    clock.on_train_epoch_end(None, None)  # already paused: validation and epoch-end hooks not counted
    clock.on_train_batch_start(None, None, batch, 0)
    clock.on_train_batch_end(None, None, None, batch, 0)
    clock.on_train_epoch_end(None, None)
    assert clock.images == 4 * 8 and clock.seconds == pytest.approx(2.0 + 1.0)
    assert clock.images_per_s == pytest.approx(32 / 3.0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.loss=foo", "model.loss must be one of ('bce', 'dice', 'bce_dice'), got 'foo'"),
        ("model.arch=vit", "model.arch must be one of ('unet', 'smp_unet'), got 'vit'"),
        ("data.image_size=[4,4]", "data.image_size must be [height, width] of at least 8, got [4, 4]"),
        ("preset.fog_prob=2", "scene knob 'fog_prob' is a probability, got 2"),
    ],
)
def test_bad_config_values_are_one_line_errors(
    tmp_path: Path, override: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    from seaSky.train import main

    cfg = make_cfg(tmp_path, tmp_path, [*TINY, override])
    with pytest.raises(SystemExit) as exit_info:
        main(cfg)  # the Hydra entry point, given a composed config, runs the job in this process
    assert exit_info.value.code == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [message]
    assert not (tmp_path / "synthetic").exists()  # failed before rendering any data


def test_epoch_history_is_not_cut_short_by_testing_an_earlier_checkpoint(tmp_path: Path) -> None:
    from seaSky.callbacks import EpochHistory

    history = EpochHistory(tmp_path)
    history.rows = [{"epoch": k} for k in range(4)]
    history.load_state_dict({"rows": [{"epoch": 0}, {"epoch": 1}]})  # the best checkpoint, after fit
    assert [r["epoch"] for r in history.rows] == [0, 1, 2, 3]
    resumed = EpochHistory(tmp_path)
    resumed.load_state_dict({"rows": [{"epoch": 0}, {"epoch": 1}]})  # a resumed run continues its rows
    assert [r["epoch"] for r in resumed.rows] == [0, 1]
