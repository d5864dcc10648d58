"""seaSky.adapt: self-training on unlabelled frames writes a usable model and a report, or refuses."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from conftest import run_cli

TINY_ADAPT = [
    "synthetic.n=20", "synthetic.render_size=[32,40]", "rounds=1", "epochs_per_round=1", "batch_size=4",
    "trust.min_frames=2",
]  # fmt: skip


def test_adapt_writes_a_model_that_predict_takes_and_a_report(
    tmp_path: Path, ir_folder: Path, data_dir: Path
) -> None:
    from seaSky.pretrained import PRETRAINED_CKPT

    out = tmp_path / "out"
    lenient = ["trust.rules.pixel_confidence=0.5", "trust.rules.horizon_confidence=0.0",
               "trust.rules.mirror_dice=0.0", "trust.rules.kept_share=0.0"]  # fmt: skip
    done = run_cli(
        "adapt", f"input={ir_folder / 'images'}", f"output_dir={out}",  # the shipped model
        f"synthetic.cache_dir={data_dir / 'synthetic'}", *TINY_ADAPT, *lenient,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "adapt.json").read_text())
    assert report["status"] == "adapted" and report["n_frames"] == 20
    assert 2 <= report["rounds"][0]["frames_used"] <= 20 and 0 < report["rounds"][0]["pixels_kept"] <= 1
    assert report["before"]["n_frames"] == report["after"]["n_frames"] == 20
    assert "| mirror Dice min |" in (out / "adapt.md").read_text()
    # the adapted weights differ from the source's, and predict takes the model
    import torch

    before = torch.load(PRETRAINED_CKPT, map_location="cpu", weights_only=False)["state_dict"]
    after = torch.load(out / "model.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("net."))
    pred = run_cli("predict", f"ckpt_path={out / 'model.ckpt'}", f"input={ir_folder / 'images'}",
                   f"output_dir={tmp_path / 'pred'}")  # fmt: skip
    assert pred.returncode == 0, pred.stderr[-2000:]
    assert len((tmp_path / "pred" / "horizon.csv").read_text().splitlines()) == 21


def test_adapt_refuses_noise_frames_and_writes_no_model(tmp_path: Path, tiny_checkpoint: Path) -> None:
    frames = tmp_path / "noise"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        cv2.imwrite(str(frames / f"n{i:02d}.png"), rng.integers(0, 256, (32, 40), dtype=np.uint8))
    out = tmp_path / "out"
    done = run_cli(
        "adapt", f"input={frames}", f"output_dir={out}", f"ckpt_path={tiny_checkpoint}", *TINY_ADAPT
    )
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{frames}: only ") and "frames have trustworthy pseudo-labels (need" in last
    assert not (out / "model.ckpt").exists()
    assert json.loads((out / "adapt.json").read_text())["status"] == "refused"
