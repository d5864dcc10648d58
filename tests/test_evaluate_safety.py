"""evaluate (issue 23): worst.png shows what per_image.csv counts, the shipped model by default, earlier
outputs replaced only once the new ones are written, and a --help of its own options."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from conftest import run_cli, write_scene
from seaSky import evaluate as evaluate_module
from seaSky.data.datamodule import IRSegDataModule
from seaSky.errors import CheckpointError
from seaSky.evaluate import OUTPUTS, checkpoint_path, evaluate
from seaSky.io import earlier_outputs, record_outputs
from seaSky.model.module import SeaSkyModule
from seaSky.paths import CONFIG_DIR
from seaSky.pretrained import PRETRAINED_CKPT


def _frames(root: Path, n: int = 8) -> Path:
    for i in range(n):
        write_scene(root / "images", root / "masks", f"f{i:02d}", seed=i)
    return root


def _untrained_module() -> SeaSkyModule:
    """A tiny U-Net with BatchNorm whose running statistics are still the initial ones: in training mode
    (batch statistics) its output differs from eval mode's. In training mode, as load_from_checkpoint
    returns a module."""
    torch.manual_seed(0)
    return SeaSkyModule(depth=2, base_channels=8).train()


def _per_image(run: Path) -> dict[str, int]:
    with open(run / "per_image.csv") as f:
        return {row["stem"]: int(row["wrong_px"]) for row in csv.DictReader(f)}


def test_worst_png_draws_the_predictions_per_image_csv_counts(tmp_path: Path, monkeypatch) -> None:
    data = IRSegDataModule(_frames(tmp_path / "data"), image_size=(32, 40), batch_size=4, split="all")
    module = _untrained_module()
    # the case of the issue: the network in training mode predicts otherwise than in the test step
    data.setup("test")
    images = torch.stack([data.datasets["test"][i]["image"] for i in range(8)])
    with torch.no_grad():
        in_train = copy.deepcopy(module).train().predict_mask(images)
        in_eval = copy.deepcopy(module).eval().predict_mask(images)
    assert (in_train != in_eval).sum() > 100

    drawn = {}

    def capture(images, truths, preds, path, names=()):
        drawn.update({name: int((truths[i] != preds[i]).sum()) for i, name in enumerate(names)})
        return original(images, truths, preds, path, names)

    original = evaluate_module.plot_predictions
    monkeypatch.setattr(evaluate_module, "plot_predictions", capture)
    run = tmp_path / "run"
    evaluate(module, data, run, n_worst=3)
    counted = _per_image(run)
    worst = sorted(counted, key=lambda stem: -counted[stem])[:3]
    assert sorted(drawn) == sorted(worst)
    assert drawn == {stem: counted[stem] for stem in worst}  # the picture's counts are the CSV's
    assert (run / "worst.png").stat().st_size > 0


def test_evaluate_defaults_to_the_shipped_model() -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("evaluate")
    assert cfg.ckpt_path is None
    for value in (None, "", "pretrained"):
        assert checkpoint_path(value) == PRETRAINED_CKPT
    assert checkpoint_path("runs/x/best.ckpt") == Path("runs/x/best.ckpt")
    with pytest.raises(CheckpointError, match=r"model\.onnx: evaluate needs the \.ckpt of seaSky\.train"):
        checkpoint_path("model.onnx")


def test_overwrite_replaces_earlier_outputs_only_after_the_new_ones(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    record_outputs(run, OUTPUTS)
    for name in ("results.json", "per_image.csv", "breakdown.csv"):  # breakdown: of earlier rendered data
        (run / name).write_text(f"earlier {name}")
    (run / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in run.iterdir()}

    # a run that fails (no data) leaves every earlier file as it was
    empty = IRSegDataModule(tmp_path / "nothing", image_size=(32, 40), split="all")
    with pytest.raises(Exception):  # noqa: B017 (whatever the data error, it comes before any writing)
        evaluate(_untrained_module(), empty, run, earlier=earlier_outputs(run, OUTPUTS, overwrite=True))
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before

    data = IRSegDataModule(_frames(tmp_path / "data"), image_size=(32, 40), split="all")
    evaluate(_untrained_module(), data, run, n_worst=2, earlier=earlier_outputs(run, OUTPUTS, overwrite=True))
    assert json.loads((run / "results.json").read_text())["n_images"] == 8
    assert not (run / "breakdown.csv").exists()  # not written again: an earlier run's, now deleted
    assert (run / "notes.txt").read_bytes() == b"mine"
    assert (run / "worst.png").is_file()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.slow  # a CLI run (10-20 s)
def test_evaluate_with_overwrite_keeps_the_earlier_outputs_when_the_data_fails(tmp_path: Path) -> None:
    # the shipped model by default (no ckpt_path); the data fails after the model has loaded
    run = tmp_path / "run"
    run.mkdir()
    record_outputs(run, OUTPUTS)
    for name in ("results.json", "per_image.csv", "worst.png"):
        (run / name).write_text(f"earlier {name}")
    before = _files(run)
    root = tmp_path / "data"
    write_scene(root / "images", root / "masks", "f00")
    (root / "masks" / "f00.png").write_bytes(b"not a png")
    done = run_cli(
        "evaluate", "data=folder", f"data.root={root}", "data.split=all", f"hydra.run.dir={run}",
        "overwrite=true",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "f00.png: cannot be read as a mask" in done.stdout + done.stderr  # the data, not the model
    after = _files(run)
    assert {name: after.get(name) for name in before} == before  # every earlier file, byte for byte


def test_help_lists_the_options_evaluate_takes() -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("evaluate", return_hydra_config=True)
    text = cfg.hydra.help.template
    assert "$CONFIG" not in text and "$APP_CONFIG_GROUPS" not in text  # not the whole training config
    for key in ("ckpt_path", "batch_size", "n_worst", "device", "precision", "overwrite", "data.root"):
        assert f"{key}=" in text, key
    assert "trainer" not in text and "callbacks" not in text and "preset" not in text
    assert np.all([len(line) <= 110 for line in text.splitlines()])
