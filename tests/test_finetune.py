"""Fine-tuning: experiment=finetune / init_from starts a new run from a trained model's weights."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from conftest import TINY, make_cfg
from seaSky.errors import CheckpointError, ConfigError
from seaSky.model.module import SeaSkyModule
from seaSky.train import train


def _val_dice(run: Path) -> list[float]:
    with open(run / "metrics.csv") as f:
        return [float(row["val/dice"]) for row in csv.DictReader(f)]


def test_init_from_starts_from_the_given_weights_and_freezes_the_encoder(
    tmp_path: Path, data_dir: Path, monkeypatch, caplog
) -> None:
    from seaSky import train as train_module

    # as if the command line had set these (make_cfg composes outside a Hydra run)
    monkeypatch.setattr(train_module, "_command_line_keys", lambda: {"model.depth", "model.base_channels"})
    source = train(make_cfg(tmp_path / "source", data_dir, [*TINY, "trainer.max_epochs=2"]))
    best = Path(source["ckpt_best"])
    # a run asking for another network and input: the source model's are used
    tuned = make_cfg(
        tmp_path / "tuned", data_dir,
        [*TINY, f"init_from={best}", "model.freeze=encoder", "trainer.max_epochs=1", "model.depth=3",
         "model.base_channels=4"],
    )  # fmt: skip
    with caplog.at_level("WARNING", logger="seaSky.train"):
        train(tuned)
    assert (tuned.model.depth, tuned.model.base_channels) == (2, 8)
    warned = [r.getMessage() for r in caplog.records if r.name == "seaSky.train" and r.levelname == "WARNING"]
    assert "model.depth=3 ignored: the weights of init_from fix it to 2" in warned
    assert "model.base_channels=4 ignored: the weights of init_from fix it to 8" in warned
    # its epoch-0 validation is the source model's best validation (same weights, same val split)
    assert _val_dice(tmp_path / "tuned")[0] == pytest.approx(source["val/dice_best"], abs=1e-6)
    before = SeaSkyModule.load_from_checkpoint(best, map_location="cpu").net.state_dict()
    after = torch.load(
        tmp_path / "tuned" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    after = {k.removeprefix("net."): v for k, v in after["state_dict"].items() if k.startswith("net.")}
    encoder = [k for k in before if k.startswith(("inc.", "downs."))]
    decoder = [k for k in before if k.startswith(("ups.", "outc.")) and before[k].is_floating_point()]
    assert encoder and all(torch.equal(before[k], after[k]) for k in encoder)  # BatchNorm statistics too
    assert any(not torch.equal(before[k], after[k]) for k in decoder)


def test_init_from_errors_are_one_line_before_any_data(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nowhere.ckpt: checkpoint not found"):
        train(make_cfg(tmp_path / "a", tmp_path / "data", [*TINY, "init_from=/nowhere.ckpt"]))
    with pytest.raises(CheckpointError, match="x.ckpt: checkpoint not found"):  # resuming a fine-tune
        train(
            make_cfg(tmp_path / "b", tmp_path / "data", [*TINY, "init_from=pretrained", "ckpt_path=x.ckpt"])
        )
    with pytest.raises(ConfigError, match="model.freeze must be one of"):
        train(make_cfg(tmp_path / "c", tmp_path / "data", [*TINY, "model.freeze=decoder"]))
    assert not (tmp_path / "data").exists()


def test_finetune_experiment_on_a_folder_takes_the_pretrained_network(
    tmp_path: Path, ir_folder: Path
) -> None:
    overrides = ["experiment=finetune", "data=folder", f"data.root={ir_folder}", "trainer.max_epochs=1"]
    cfg = make_cfg(tmp_path, tmp_path, [*overrides, "trainer.accelerator=cpu", "logger=csv"])
    results = train(cfg)
    assert list(cfg.data.image_size) == [128, 160] and cfg.model.depth == 4 and cfg.model.freeze == "none"
    assert results["status"] == "completed" and 0.0 <= results["test/dice"] <= 1.0
