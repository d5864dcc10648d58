"""Start-up: predict and export import neither Lightning nor segmentation-models-pytorch (nor timm), and the
network they load without Lightning is the trained module's, to the bit. Rendering: the work hoisted out
of the renderer's loops gives the same numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

HEAVY = ("lightning", "segmentation_models_pytorch", "timm", "torchmetrics")


def test_inference_commands_import_no_training_libraries() -> None:
    code = (
        "import sys, seaSky.predict, seaSky.export\n"
        f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "", f"predict and export import {run.stdout.strip()}"


def test_load_network_is_the_trained_module_without_lightning(tiny_checkpoint: Path) -> None:
    from seaSky.model.checkpoint import load_network, load_trained

    net, ckpt = load_network(tiny_checkpoint)
    module, _ = load_trained(tiny_checkpoint)
    module.eval()
    assert not net.training and net.threshold == module.threshold
    assert net.channels_last == module.channels_last and net.num_parameters == module.num_parameters
    images = torch.from_numpy(np.random.default_rng(0).random((3, 1, 37, 45), dtype=np.float32))
    with torch.no_grad():
        assert torch.equal(net(images), module(images))
    assert ckpt["datamodule_hyper_parameters"]["image_size"]


def test_load_network_names_a_checkpoint_it_cannot_restore(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from seaSky.errors import CheckpointError
    from seaSky.model.checkpoint import load_network

    ckpt = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    ckpt["hyper_parameters"]["depth"] += 1  # weights of another network
    bad = tmp_path / "other.ckpt"
    torch.save(ckpt, bad)
    with pytest.raises(CheckpointError, match="other.ckpt: cannot restore the model"):
        load_network(bad)


def test_rough_emissivity_table_is_the_per_wind_computation() -> None:
    from seaSky.render import physics

    winds = np.array([0.0, 7.0, 20.0])
    _, table = physics._rough_emissivity_table(91, winds)
    theta = np.radians(np.linspace(0, 90, 91))
    tilt = np.radians(np.linspace(-60, 60, 481))
    for i, w in enumerate(winds):  # the loop as it was written before the wind-free parts left it
        sigma = np.sqrt(0.5 * (0.003 + 0.00512 * w))
        weight = np.exp(-0.5 * (np.tan(tilt) / sigma) ** 2)
        local = theta[:, None] - tilt[None, :]
        proj = np.where(np.cos(local) > 0, np.cos(local), 0) * weight[None, :]
        eps = physics.fresnel_emissivity(np.clip(local, -np.pi / 2, np.pi / 2))
        row = ((proj * eps).sum(1) / np.maximum(proj.sum(1), 1e-12)).astype(np.float32)
        assert row.tobytes() == table[i].tobytes()
