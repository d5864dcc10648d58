"""Label-free checks of footage: the measures on hand-made cases, and python -m seaSky.check_footage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli
from seaSky import footage
from seaSky.footage import FrameCheck
from seaSky.frames import SUPPORTED

SHARED_FRAMES = Path(__file__).resolve().parents[2] / "shared" / "real-ir-unlabeled"


def _check(stem: str, y: float, mirror: float = 1.0, horizon: bool = True, **kw) -> FrameCheck:
    values = {"sea_share": 0.5, "sea_touches_bottom": True, "sea_pieces": 1, **kw}
    return FrameCheck(
        stem, horizon, y if horizon else math.nan, 0.5 if horizon else math.nan, 0.9 if horizon else 0.0,
        mirror, **values,
    )  # fmt: skip


def test_mirror_agreement_and_sea_pieces() -> None:
    mask = np.zeros((10, 12), np.uint8)
    mask[6:] = 1
    assert footage.mirror_dice(mask, mask) == 1.0  # a level horizon is its own mirror image
    tilted = np.tril(np.ones((10, 12), np.uint8), -1)  # sea below a diagonal
    assert footage.mirror_dice(tilted, tilted[:, ::-1]) == 1.0  # the mirrored frame's prediction
    assert footage.mirror_dice(tilted, tilted) < 0.8
    assert footage.mirror_dice(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0  # no sea in either
    two = np.zeros((40, 40), np.uint8)
    two[30:, :15] = two[30:, 25:] = 1
    two[0, 0] = 1  # a speck below MIN_PIECE
    assert footage.sea_pieces(two) == 2 and footage.sea_pieces(mask) == 1


def test_summary_counts_jumps_and_failures() -> None:
    ys = [100.0, 100.2, 100.1, 140.0, 100.3, 100.4]  # one outlier frame: two jumps
    checks = [_check(f"f{i}", y) for i, y in enumerate(ys)]
    checks.append(_check("f6", 0, horizon=False, mirror=0.5, sea_touches_bottom=False, sea_pieces=3))
    summary = footage.summarize(checks, jump_px=5.0)
    assert summary["n_frames"] == 7 and summary["share_with_horizon"] == pytest.approx(6 / 7)
    assert summary["n_jumps"] == 2 and summary["step_dy_px"]["max"] == pytest.approx(39.9)
    assert summary["step_dy_px"]["median"] == pytest.approx(0.2)  # of the 5 steps between horizons
    assert summary["share_sea_off_bottom"] == summary["share_sea_in_pieces"] == pytest.approx(1 / 7)
    assert summary["mirror_dice_min"] == 0.5
    scores = footage.problem_scores(checks, jump_px=5.0)
    assert int(np.argmax(scores)) == 6  # no horizon, mirror disagreement, sea off the bottom, in pieces
    assert min(scores[2], scores[3], scores[4]) > 7 > max(scores[0], scores[1], scores[5])  # the jumps


def test_worse_checks_name_what_got_worse() -> None:
    before = footage.summarize([_check(f"f{i}", 100.0 + 0.1 * i) for i in range(6)])
    assert footage.worse_checks(before, before) == []
    slightly = footage.summarize([_check(f"f{i}", 100.0 + 0.1 * i, mirror=0.997) for i in range(6)])
    assert footage.worse_checks(before, slightly) == []  # within mirror_drop
    checks = [_check(f"f{i}", 100.0 + 0.1 * i) for i in range(5)]
    checks.append(_check("f5", 0, horizon=False, mirror=0.9, sea_pieces=2))
    worse = footage.worse_checks(before, footage.summarize(checks))
    assert [w.split(" ")[0] for w in worse] == ["frames", "mirror", "sea"]  # horizon share, mirror, pieces
    assert worse[1] == "mirror Dice min 1.0000 -> 0.9000"
    jumpy = footage.summarize([_check(f"f{i}", 100.0 + 20.0 * (i == 3)) for i in range(6)])
    assert footage.worse_checks(before, jumpy) == ["jumps > 5 px 0 -> 2"]
    assert footage.worse_checks(jumpy, before) == []  # fewer jumps is better, not worse


def _sequence(root: Path, n: int = 12) -> Path:
    """A slowly rising horizon over n frames of 48x64: sky above, sea below, with noise."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(n):
        yy = np.arange(48)[:, None] + np.zeros((1, 64))
        image = np.where(yy > 20 + 0.3 * i, 160.0, 90.0) + rng.normal(0, 4, (48, 64))
        cv2.imwrite(str(root / f"frame_{i:03d}.png"), np.clip(image, 0, 255).astype(np.uint8))
    return root


def test_check_footage_cli_on_a_tiny_folder(tmp_path: Path, tiny_checkpoint: Path) -> None:
    frames = _sequence(tmp_path / "frames")
    out = tmp_path / "out"
    args = [f"input={frames}", f"output_dir={out}", f"ckpt_path={tiny_checkpoint}", "n_worst=4"]
    done = run_cli("check_footage", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "footage.json").read_text())
    assert summary["n_frames"] == 12 and summary["input"] == str(frames)
    assert 0.0 <= summary["share_with_horizon"] <= 1.0 and 0.0 <= summary["mirror_dice"]["median"] <= 1.0
    rows = (out / "frames.csv").read_text().splitlines()
    assert len(rows) == 13 and rows[1].startswith("frame_000,")
    assert "| jumps above 5 px |" in (out / "footage.md").read_text()
    sheet = cv2.imread(str(out / "worst.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 322
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "out"]  # nothing else written


def test_check_footage_needs_frames(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli("check_footage", f"input={empty}", f"output_dir={tmp_path}")
    assert done.returncode == 2
    assert done.stdout.strip().endswith(f"empty: no image frames ({SUPPORTED}) in it")


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_FRAMES.is_dir(), reason="the shared real sequence is not beside the repo")
def test_pretrained_model_on_the_shared_real_sequence(tmp_path: Path) -> None:
    from seaSky.check_footage import check_footage
    from seaSky.inference import load_predictor

    summary = check_footage(load_predictor(None), SHARED_FRAMES, tmp_path, n_worst=4)
    assert summary["n_frames"] == 175
    # the real-footage issue's bars: a horizon in every frame, no jump above 5 px, mirror Dice >= 0.99
    assert summary["share_with_horizon"] == 1.0 and summary["n_jumps"] == 0
    assert summary["mirror_dice_min"] >= 0.99
