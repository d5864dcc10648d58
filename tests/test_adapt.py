"""seaSky.adapt: self-training on unlabelled frames writes a usable model and a report, or refuses."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli

TINY_ADAPT = [
    "synthetic.n=20", "synthetic.render_size=[32,40]", "rounds=1", "epochs_per_round=1", "batch_size=4",
    "trust.min_frames=2",
]  # fmt: skip


@pytest.mark.slow  # the adapt and predict CLIs end to end (27 s); adapt's logic is tested in-process
def test_adapt_writes_a_model_that_predict_takes_and_a_report(
    tmp_path: Path, ir_folder: Path, data_dir: Path
) -> None:
    from seaSky.pretrained import PRETRAINED_CKPT

    out = tmp_path / "out"
    lenient = ["trust.rules.pixel_confidence=0.5", "trust.rules.horizon_confidence=0.0",
               "trust.rules.mirror_dice=0.0", "trust.rules.kept_share=0.0",
               "guard.enabled=false"]  # the guard has a test of its own  # fmt: skip
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
    assert f"python -m seaSky.pick input={frames} n=10" in last and "experiment=finetune" in last
    assert not (out / "model.ckpt").exists()
    refused = json.loads((out / "adapt.json").read_text())
    assert refused["status"] == "refused" and len(refused["frames"]) == 12  # each frame's trust values
    assert not any(frame["used"] for frame in refused["frames"])
    assert (
        "- first labelling, medians over the frames (the rule in brackets): horizon confidence"
        in (out / "adapt.md").read_text()
    )


def _adapt_cfg(tmp_path: Path, frames: Path, overrides: list[str]):
    """conf/adapt.yaml composed as the CLI would, for the shipped model (no synthetic scenes: the guard's
    wiring is the subject)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from seaSky.paths import CONFIG_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("adapt", overrides=[
            f"input={frames}", f"output_dir={tmp_path / 'out'}", "synthetic.n=0",
            "batch_size=4", "epochs_per_round=1", "trust.min_frames=2", "trust.rules.pixel_confidence=0.5",
            "trust.rules.horizon_confidence=0.0", "trust.rules.mirror_dice=0.0", "trust.rules.kept_share=0.0",
            *overrides,
        ])  # fmt: skip


def test_adapt_stops_at_a_worse_round_and_keeps_the_one_before_or_writes_no_model(
    tmp_path: Path, ir_folder: Path, monkeypatch
) -> None:
    import pytest
    import torch

    from seaSky import adapt as adapt_module
    from seaSky.errors import DataError

    summaries: list[dict] = []
    weights: list[dict] = []  # the model's weights at each summary: before, after round 1, 2, ...
    real_summary = adapt_module.footage_summary

    def scripted(predictor, paths, batch_size):  # before, then one summary per round
        if summaries:  # after a round: the checks before, with the mirror agreement as scripted
            summary = {
                **summaries[0],
                "mirror_dice_min": summaries[0]["mirror_dice_min"] - drops[len(summaries) - 1],
            }
        else:
            summary = real_summary(predictor, paths, batch_size)
        summaries.append(summary)
        weights.append({k: v.detach().clone() for k, v in predictor.module.state_dict().items()})
        return summary

    monkeypatch.setattr(adapt_module, "footage_summary", scripted)
    drops = [0.0, 0.5, 0.0]  # round 1 no worse, round 2 much worse: stop there, round 1's weights are kept
    report = adapt_module.adapt(_adapt_cfg(tmp_path, ir_folder / "images", ["rounds=3"]))
    assert report["status"] == "adapted" and report["kept_round"] == 1
    assert len(report["rounds"]) == 2 and report["stopped_after_round"] == 2  # no round 3
    assert report["rounds"][0]["worse"] == [] and report["rounds"][1]["worse"][0].startswith(
        "mirror Dice min"
    )
    assert report["after"] is summaries[1]
    assert len(report["rounds"][0]["stems_used"]) == report["rounds"][0]["frames_used"] > 0
    md = (tmp_path / "out" / "adapt.md").read_text()
    assert "- model: round 1's" in md and "- stopped after round 2" in md
    saved = torch.load(tmp_path / "out" / "model.ckpt", map_location="cpu", weights_only=False)
    assert saved["seaSky_adapt"]["kept_round"] == 1
    net = [
        k for k in saved["state_dict"] if k.startswith("net.") and saved["state_dict"][k].is_floating_point()
    ]
    assert all(torch.equal(saved["state_dict"][k], weights[1][k]) for k in net)  # round 1's weights
    assert not all(torch.equal(saved["state_dict"][k], weights[2][k]) for k in net)  # not round 2's

    summaries.clear()
    weights.clear()
    drops = [0.5, 0.0]  # round 1 worse: no round 2, no model, the report says why
    out = tmp_path / "worse"
    cfg = _adapt_cfg(tmp_path, ir_folder / "images", ["rounds=2", f"output_dir={out}"])
    with pytest.raises(DataError, match="adapting made the label-free checks worse in round 1"):
        adapt_module.adapt(cfg)
    assert not (out / "model.ckpt").exists()
    worse_report = json.loads((out / "adapt.json").read_text())
    assert worse_report["status"] == "worse" and len(worse_report["rounds"]) == 1
    assert "no model written" in (out / "adapt.md").read_text()
    summaries.clear()  # guard.enabled=false: the last round is kept whatever its checks
    weights.clear()
    cfg = _adapt_cfg(tmp_path, ir_folder / "images",
                     ["rounds=1", f"output_dir={tmp_path / 'off'}", "guard.enabled=false"])  # fmt: skip
    assert adapt_module.adapt(cfg)["kept_round"] == 1


def test_adapt_rejects_empty_settings_and_says_when_there_are_too_few_frames(
    tmp_path: Path, ir_folder: Path
) -> None:
    import pytest

    from seaSky.adapt import adapt
    from seaSky.errors import ConfigError, DataError

    for bad in ("rounds=0", "epochs_per_round=0", "batch_size=0"):  # before any work
        with pytest.raises(ConfigError, match=rf"^{bad}: adapt needs at least one "):
            adapt(_adapt_cfg(tmp_path, ir_folder / "images", [bad]))
    with pytest.raises(
        DataError, match=r"20 distinct readable frames; adapt needs at least 30 with trustworthy"
    ):
        adapt(_adapt_cfg(tmp_path, ir_folder / "images", ["trust.min_frames=30"]))
    assert not (tmp_path / "out" / "model.ckpt").exists()


def test_adapt_draws_the_same_augmentation_for_the_same_seed(
    tmp_path: Path, ir_folder: Path, monkeypatch
) -> None:
    import torch

    from seaSky import adapt as adapt_module

    drawn: list[torch.Tensor] = []

    def first_samples(predictor, data, epochs, lr, batch_size):  # instead of training: what it would see
        drawn.append(torch.cat([data[i]["image"] for i in range(4)]))
        return 0.0

    monkeypatch.setattr(adapt_module, "train_round", first_samples)
    for run in ("a", "b"):  # (unseeded, the two runs drew different crops and flips: the test failed)
        adapt_module.adapt(_adapt_cfg(tmp_path, ir_folder / "images", [
            "rounds=1", "guard.enabled=false", "seed=0", f"output_dir={tmp_path / run}"]))  # fmt: skip
    assert torch.equal(drawn[0], drawn[1])  # albumentations' own generator is seeded too


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_adapt_overwrite_keeps_the_earlier_model_when_it_refuses_and_never_adapts_its_own_output(
    tmp_path: Path, ir_folder: Path, monkeypatch
) -> None:
    import pytest

    from seaSky import adapt as adapt_module
    from seaSky.errors import ConfigError, DataError

    frames = ir_folder / "images"
    out = tmp_path / "out"
    adapt_module.adapt(_adapt_cfg(tmp_path, frames, ["rounds=1", "guard.enabled=false"]))
    earlier = (out / "model.ckpt").read_bytes()
    with pytest.raises(DataError, match="adapt needs at least 30"):  # refused: too few frames
        adapt_module.adapt(_adapt_cfg(tmp_path, frames, ["trust.min_frames=30", "overwrite=true"]))
    assert (out / "model.ckpt").read_bytes() == earlier  # (it was deleted before the refusal)
    assert f"{out / 'model.ckpt'} is an earlier run's model, kept as it was" in (out / "adapt.md").read_text()

    real_summary = adapt_module.footage_summary
    calls: list[dict] = []

    def worse_after(predictor, paths, batch_size):  # every round makes the mirror agreement worse
        summary = real_summary(predictor, paths, batch_size) if not calls else dict(calls[0])
        if calls:
            summary["mirror_dice_min"] = calls[0]["mirror_dice_min"] - 0.5
        calls.append(summary)
        return summary

    monkeypatch.setattr(adapt_module, "footage_summary", worse_after)
    with pytest.raises(DataError, match="worse in round 1"):
        adapt_module.adapt(_adapt_cfg(tmp_path, frames, ["rounds=1", "overwrite=true"]))
    assert (out / "model.ckpt").read_bytes() == earlier

    before = _snapshot(out)
    with pytest.raises(ConfigError, match="the model to adapt is this run's output"):
        adapt_module.adapt(
            _adapt_cfg(tmp_path, frames, [f"ckpt_path={out / 'model.ckpt'}", "overwrite=true"])
        )
    assert _snapshot(out) == before


def test_adapt_counts_identical_frames_once(tmp_path: Path, ir_folder: Path) -> None:
    import shutil

    import pytest

    from seaSky.adapt import adapt
    from seaSky.errors import DataError

    repeated = tmp_path / "paused"
    repeated.mkdir()
    for i, frame in enumerate(sorted((ir_folder / "images").iterdir())[:4]):
        for copy in range(3):  # a paused video: each frame three times
            shutil.copyfile(frame, repeated / f"f{3 * i + copy:02d}{frame.suffix}")
    with pytest.raises(DataError, match=r"4 distinct readable frames; adapt needs at least 5"):
        adapt(_adapt_cfg(tmp_path, repeated, ["trust.min_frames=5"]))  # 12 files, 4 frames


def test_adapt_refuses_frames_of_two_sizes(tmp_path: Path, ir_folder: Path) -> None:
    import pytest

    from seaSky.adapt import adapt
    from seaSky.errors import DataError

    frames = tmp_path / "two_cameras"
    frames.mkdir()
    for i, frame in enumerate(sorted((ir_folder / "images").iterdir())[:4]):
        image = cv2.imread(str(frame), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(frames / f"f{i}.png"), image if i < 2 else cv2.resize(image, (80, 64)))
    with pytest.raises(DataError, match=r"f2.png: 80x64 px, but .*f0.png: 40x32 px"):
        adapt(_adapt_cfg(tmp_path, frames, []))
