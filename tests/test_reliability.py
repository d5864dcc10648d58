"""Reliable training runs: the same seed gives the same run, a resume continues exactly, Ctrl-C and SIGTERM
leave a resumable checkpoint and an honest exit code, bad configs and checkpoints fail before any data is
loaded, and a non-finite loss stops training with the last good checkpoint kept."""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import TINY, make_cfg, run_cli
from seaSky.errors import CheckpointError, ConfigError, TrainingError
from seaSky.train import train

DETERMINISTIC = [*TINY, "trainer.deterministic=true", "preset=easy", "model.optimizer.lr=0.01"]
RUN_KEYS = ("status", "test/dice", "test/acc", "test/iou", "test/loss", "val/dice_best", "epochs")


def _metrics(run: Path) -> list[str]:
    return (run / "metrics.csv").read_text().splitlines()


def test_the_same_seed_gives_the_same_run_augmentation_included(tmp_path: Path, data_dir: Path) -> None:
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        cfg = make_cfg(tmp_path / name, data_dir, [*DETERMINISTIC, f"seed={seed}", "trainer.max_epochs=2"])
        results = train(cfg)
        runs[name] = ({k: results[k] for k in RUN_KEYS}, _metrics(tmp_path / name))
    assert runs["a"] == runs["b"]
    assert runs["a"][1] != runs["c"][1]  # another seed: other batches, augmentations and weights


def test_resume_equals_uninterrupted(tmp_path: Path, data_dir: Path) -> None:
    straight = train(make_cfg(tmp_path / "straight", data_dir, [*DETERMINISTIC, "trainer.max_epochs=4"]))
    # the same run stopped after 2 of its 4 epochs (38 training scenes / 8 = 5 batches an epoch) ...
    first = make_cfg(
        tmp_path / "first", data_dir, [*DETERMINISTIC, "trainer.max_epochs=4", "+trainer.max_steps=10"]
    )
    assert train(first)["epochs"] == 2
    # ... and resumed from its last.ckpt to epoch 4
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    resumed = train(
        make_cfg(
            tmp_path / "resumed", data_dir, [*DETERMINISTIC, "trainer.max_epochs=4", f"ckpt_path={last}"]
        )
    )
    assert {k: resumed[k] for k in RUN_KEYS} == {k: straight[k] for k in RUN_KEYS}
    assert _metrics(tmp_path / "resumed")[-2:] == _metrics(tmp_path / "straight")[-2:]


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGTERM, 143),
        pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow),
    ],  # same path: make test-full
)
def test_a_signal_saves_a_resumable_checkpoint_and_exits_non_zero(
    tmp_path: Path, data_dir: Path, tiny_checkpoint: Path, signum: signal.Signals, code: int
) -> None:
    runs = tmp_path / "outputs"
    # a fine-tune (init_from): the resume command it prints worked only for new runs before
    args = [*TINY, "trainer.max_epochs=500", f"paths.data_dir={data_dir}", f"init_from={tiny_checkpoint}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "seaSky.train", *args, f"hydra.run.dir={runs}/day/first"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    metrics = runs / "day" / "first" / "metrics.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        not metrics.is_file() or len(metrics.read_text().splitlines()) < 3
    ):
        time.sleep(0.5)  # until epoch 1 is done (header, epoch 0, epoch 1)
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == code, output[-2000:]
    results = json.loads((runs / "day" / "first" / "results.json").read_text())
    assert results["status"] == "interrupted" and results["signal"] == signum.name
    assert f"Interrupted by {signum.name}" in output
    last = Path(results["last_ckpt"])
    assert torch.load(last, map_location="cpu", weights_only=False)["global_step"] >= 5  # one epoch
    # the command the log prints resumes it as printed (fewer epochs appended, to end the test soon)
    printed = output.split("resume with\n", 1)[1].splitlines()[0].strip()
    assert printed.startswith("python -m seaSky.train ") and printed.endswith(f"ckpt_path={last}")
    again = subprocess.run(
        [sys.executable, *shlex.split(printed)[1:], "trainer.max_epochs=3"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    done = [json.loads(p.read_text()) for p in (tmp_path / "outputs").glob("*/*/results.json")]
    assert [r["status"] for r in done if r["output_dir"] != str(runs / "day" / "first")] == ["completed"]


@pytest.mark.slow  # a CLI training run (11 s)
def test_ckpt_path_last_resumes_the_newest_run_of_the_same_experiment(
    tmp_path: Path, data_dir: Path, tiny_checkpoint: Path
) -> None:
    runs = tmp_path / "outputs"
    last = runs / "day" / "first" / "checkpoints" / "last.ckpt"  # an earlier run (2 epochs) of no experiment
    last.parent.mkdir(parents=True)
    shutil.copyfile(tiny_checkpoint.parent / "last.ckpt", last)
    args = [*TINY, f"paths.data_dir={data_dir}", "trainer.max_epochs=3", "ckpt_path=last"]
    again = run_cli("train", *args, f"hydra.run.dir={runs}/day/second")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming {last}" in again.stdout + again.stderr
    assert json.loads((runs / "day" / "second" / "results.json").read_text())["status"] == "completed"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trainer.max_epochs=abc"], "trainer.max_epochs must be an integer, got 'abc'"),
        (["model.optimizer.lr=-0.1"], "model.optimizer.lr must be > 0, got -0.1"),
        (
            ["model.depth=6"],
            "model.depth=6 halves the input 6 times: data.image_size [32, 40] must be at least 64",
        ),
        (["data.image_size=[8,8]", "model.depth=4"], "must be at least 16 pixels"),
        (
            ["experiment=pretrained", "data=folder", "data.root=/nowhere"],
            "data.bit_depth, data.n, data.seed: not an option of IRSegDataModule (data=folder)",
        ),
        (["ckpt_path=/nowhere/last.ckpt"], "/nowhere/last.ckpt: checkpoint not found"),
        (["ckpt_path=last"], "ckpt_path=last: no earlier run of this config (no experiment)"),
    ],
)
def test_bad_configs_fail_before_any_data_is_loaded(
    tmp_path: Path, overrides: list[str], message: str
) -> None:
    data = tmp_path / "data"
    with pytest.raises((ConfigError, CheckpointError)) as err:
        base = [] if "data=folder" in overrides else TINY  # TINY sets synthetic-only keys
        train(make_cfg(tmp_path / "outputs" / "day" / "run", data, [*base, *overrides]))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not data.exists()  # nothing rendered or loaded


def test_a_truncated_checkpoint_is_one_line_from_the_cli(tmp_path: Path, tiny_checkpoint: Path) -> None:
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    result = run_cli("train", *TINY, f"ckpt_path={truncated}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
    assert len(errors) == 1 and f"{truncated}: not a readable checkpoint" in errors[0]
    assert "Traceback" not in result.stderr


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seaSky.model.module import SeaSkyLoss

    calls = {"n": 0}
    forward = SeaSkyLoss.forward

    def poisoned(self: SeaSkyLoss, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = forward(self, logits, target)
        if torch.is_grad_enabled():  # training batches only
            calls["n"] += 1
            if calls["n"] > 7:  # in epoch 2 (5 batches an epoch)
                return loss * float("nan")
        return loss

    monkeypatch.setattr(SeaSkyLoss, "forward", poisoned)
    with pytest.raises(TrainingError, match="non-finite training loss .* at epoch 1, batch 2") as err:
        train(make_cfg(tmp_path, data_dir, [*TINY, "trainer.max_epochs=3"]))
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert str(last) in str(err.value)
    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    assert ckpt["epoch"] == 0 and all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


def test_last_ckpt_is_the_last_epoch_even_without_a_new_best(tmp_path: Path, data_dir: Path) -> None:
    # a learning rate too small to change val/dice: epoch 0's checkpoint stays the best
    train(make_cfg(tmp_path, data_dir, [*TINY, "trainer.max_epochs=3", "model.optimizer.lr=1e-12"]))
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert (last["epoch"], last["global_step"]) == (2, 15)  # 5 batches an epoch
