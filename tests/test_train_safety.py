"""Training never replaces a user's files or an earlier run unasked; a fine-tune that only made the model
worse keeps the source's weights; a command-line mistake is one line naming the closest valid key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

from conftest import TINY, make_cfg, run_cli
from seaSky.cli import command_line_error
from seaSky.errors import ConfigError
from seaSky.paths import CONFIG_DIR
from seaSky.train import train


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_dir_with_an_earlier_run_is_refused_unless_overwrite_and_a_users_files_always(
    tmp_path: Path, data_dir: Path
) -> None:
    run = tmp_path / "run"
    args = [*TINY, "trainer.max_epochs=1"]
    train(make_cfg(run, data_dir, args))
    before = _snapshot(run)
    with pytest.raises(
        ConfigError, match=r"holds the outputs of an earlier run \(checkpoints/, results.json"
    ):
        train(make_cfg(run, data_dir, args))
    assert _snapshot(run) == before  # (results.json, last.ckpt and metrics.csv were replaced, -v1.ckpt added)
    train(make_cfg(run, data_dir, [*args, "overwrite=true"]))
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert len(names) == 2 and "last.ckpt" in names and not any("-v1" in n for n in names)

    mine = tmp_path / "mine"  # a folder of the user's own, with a file named like a run's output
    mine.mkdir()
    (mine / "results.json").write_text('{"my": "results"}')
    (mine / "notes.txt").write_text("mine")
    before = _snapshot(mine)
    for overwrite in ("false", "true"):
        with pytest.raises(ConfigError, match=r"holds results.json, which seaSky did not write"):
            train(make_cfg(mine, data_dir, [*args, f"overwrite={overwrite}"]))
    assert _snapshot(mine) == before


def test_a_fine_tune_that_only_made_the_model_worse_keeps_the_source_weights(
    tmp_path: Path, ir_folder: Path, caplog
) -> None:
    from seaSky.pretrained import PRETRAINED_CKPT

    cfg = make_cfg(
        tmp_path / "tuned", tmp_path,
        ["experiment=finetune", "data=folder", f"data.root={ir_folder}", "trainer.max_epochs=1",
         "trainer.accelerator=cpu", "logger=csv", "callbacks.rich_progress_bar=null",
         "model.optimizer.lr=20"],  # a learning rate that wrecks the shipped model
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="seaSky.train"):
        results = train(cfg)
    best = Path(results["ckpt_best"])
    assert best.name.startswith("epoch000-dice"), results
    assert any("Fine-tuning did not beat the source model" in r.getMessage() for r in caplog.records)
    source = torch.load(PRETRAINED_CKPT, map_location="cpu", weights_only=False)["state_dict"]
    kept = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
    assert all(torch.equal(source[k], kept[k]) for k in source if k.startswith("net."))
    assert results["test/dice"] > 0.9  # the source's test figure, not the wrecked model's


def _composition_error(overrides: list[str], config: str = "train") -> Exception:
    GlobalHydra.instance().clear()
    with (
        initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"),
        pytest.raises((ConfigCompositionException, MissingConfigException, OverrideParseException)) as caught,
    ):
        compose(config, overrides=overrides)
    return caught.value


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (["model.depht=3"], "model.depht: no such key; did you mean model.depth?"),
        (["trainer.max_epoch=2"], "trainer.max_epoch: no such key; did you mean trainer.max_epochs?"),
        (
            ["preset=hrad"],
            "preset=hrad: no such preset; did you mean hard?; choose one of default, easy, hard",
        ),
        (["data.root=my,frames"], "data.root=my,frames: Hydra cannot read this value as written"),
        (["data.root=/tmp/été"], "data.root=/tmp/été: Hydra cannot read this value as written"),
    ],
)
def test_command_line_mistakes_are_one_line_naming_the_closest_key(overrides: list[str], line: str) -> None:
    message = command_line_error(_composition_error(overrides))
    assert message.startswith(line) and "\n" not in message


def test_a_misspelt_key_on_the_command_line_exits_2_with_one_line() -> None:
    done = run_cli("render", "n=1", "preset.cloud_prb=0.5")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "ConfigError: preset.cloud_prb: no such key; did you mean preset.cloud_prob? (to add a "
        "new key, write +preset.cloud_prb=...)"
    ]


def test_overwrite_never_removes_the_model_a_fine_tune_starts_from(tmp_path: Path, data_dir: Path) -> None:
    run = tmp_path / "run"
    first = train(make_cfg(run, data_dir, [*TINY, "trainer.max_epochs=1"]))
    before = _snapshot(run)
    again = [*TINY, "trainer.max_epochs=1", "overwrite=true", f"init_from={first['ckpt_best']}"]
    with pytest.raises(
        ConfigError, match=r"init_from=.*: lies in .*checkpoints, an output of the earlier run"
    ):
        train(make_cfg(run, data_dir, again))
    assert _snapshot(run) == before


def test_a_refused_run_leaves_the_earlier_runs_hydra_config_as_it_was(tmp_path: Path, data_dir: Path) -> None:
    run = tmp_path / "run"
    train(make_cfg(run, data_dir, [*TINY, "trainer.max_epochs=1"]))
    (run / ".hydra").mkdir()
    (run / ".hydra" / "config.yaml").write_text("the earlier run's config\n")
    before = _snapshot(run)
    done = run_cli("train", *TINY, f"paths.data_dir={data_dir}", f"hydra.run.dir={run}")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"ConfigError: {run}: holds the outputs of an earlier run (checkpoints/, results.json")
    )
    assert _snapshot(run) == before  # Hydra wrote this run's .hydra/ over it before
