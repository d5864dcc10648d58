"""python -m seaSky.pretrained: install one run's best checkpoint, or the weighted average of several."""

from __future__ import annotations

import json

import pytest
import torch

from seaSky.errors import DataError
from seaSky.pretrained import average_state_dicts, install


def _ckpt(path, value: float, steps: int) -> None:
    state = {"net.w": torch.full((2, 3), value), "net.bn.num_batches_tracked": torch.tensor(steps)}
    torch.save({"state_dict": state, "hyper_parameters": {"depth": 2}, "optimizer_states": [1]}, path)


def test_average_weights_floats_and_keeps_the_first_integer_buffers() -> None:
    a = {"w": torch.tensor([0.0, 4.0]), "n": torch.tensor(7)}
    b = {"w": torch.tensor([3.0, 1.0]), "n": torch.tensor(9)}
    out = average_state_dicts([a, b], [2.0, 1.0])
    assert torch.allclose(out["w"], torch.tensor([1.0, 3.0]))
    assert out["n"].item() == 7 and out["w"].dtype == torch.float32


def test_install_averages_checkpoints_and_runs(tmp_path) -> None:
    _ckpt(tmp_path / "a.ckpt", 1.0, 5)
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    _ckpt(run / "best.ckpt", 4.0, 6)
    (run / "results.json").write_text(json.dumps({"ckpt_best": str(run / "best.ckpt"), "test/dice": 0.9}))
    (run / ".hydra" / "config.yaml").write_text("seed: 3\n")
    target = tmp_path / "installed"
    out = install([tmp_path / "a.ckpt", run], target=target, weights=[2, 1])
    ckpt = torch.load(out, weights_only=True)
    assert torch.allclose(ckpt["state_dict"]["net.w"], torch.full((2, 3), 2.0))
    assert "optimizer_states" not in ckpt and ckpt["hyper_parameters"] == {"depth": 2}
    assert (target / "config.yaml").read_text() == "seed: 3\n"
    members = json.loads((target / "metrics.json").read_text())["average_of"]
    assert [m["weight"] for m in members] == [2, 1] and members[1]["results"]["test/dice"] == 0.9
    assert members[0]["results"] is None


def test_averaging_an_installed_model_keeps_its_config_and_history(tmp_path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    _ckpt(first / "model.ckpt", 1.0, 5)
    (first / "config.yaml").write_text("seed: 1\n")
    (first / "metrics.json").write_text(json.dumps({"average_of": [{"source": "a"}, {"source": "b"}]}))
    _ckpt(tmp_path / "b.ckpt", 3.0, 6)
    target = tmp_path / "installed"
    install([first / "model.ckpt", tmp_path / "b.ckpt"], target=target, weights=[3, 1])
    members = json.loads((target / "metrics.json").read_text())["average_of"]
    assert [m["source"] for m in members[0]["results"]["average_of"]] == ["a", "b"]
    assert members[1]["results"] is None and (target / "config.yaml").read_text() == "seed: 1\n"
    install(first / "model.ckpt", target=tmp_path / "copy")  # one installed model: its history nested
    (copied,) = json.loads((tmp_path / "copy" / "metrics.json").read_text())["average_of"]
    assert [m["source"] for m in copied["results"]["average_of"]] == ["a", "b"]


def test_install_refuses_mismatched_weights_and_networks(tmp_path) -> None:
    _ckpt(tmp_path / "a.ckpt", 1.0, 5)
    torch.save({"state_dict": {"other": torch.zeros(1)}}, tmp_path / "b.ckpt")
    with pytest.raises(DataError, match="one non-negative weight per run"):
        install([tmp_path / "a.ckpt", tmp_path / "a.ckpt"], target=tmp_path / "t", weights=[1])
    with pytest.raises(DataError, match="not one net"):
        install([tmp_path / "a.ckpt", tmp_path / "b.ckpt"], target=tmp_path / "t")
    assert not (tmp_path / "t" / "model.ckpt").exists()
