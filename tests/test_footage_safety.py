"""check_footage (issue 23): one ordering rule for every sequence reader, frames of one size, videos read as
predict reads them, earlier outputs refused unless overwrite=true, the shipped model by default, and a
--help of its own options."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from seaSky.check_footage import OUTPUTS, check_footage
from seaSky.errors import ConfigError, DataError
from seaSky.frames import frame_order_key, list_inputs
from seaSky.inference import Predictor, load_predictor
from seaSky.io import record_outputs
from seaSky.paths import CONFIG_DIR
from seaSky.sequence import in_frame_order

H, W = 48, 64


def _frame(i: int, height: int = H, width: int = W) -> np.ndarray:
    """Sky (90) above a horizon that falls 3 px a frame, sea (160) below, with noise."""
    rng = np.random.default_rng(i)
    rows = np.arange(height)[:, None] + np.zeros((1, width))
    image = np.where(rows > (8 + 3 * i) * height / H, 160.0, 90.0) + rng.normal(0, 4, (height, width))
    return np.clip(image, 0, 255).astype(np.uint8)


def _folder(root: Path, names: list[str], sizes: dict[int, tuple[int, int]] | None = None) -> Path:
    root.mkdir(parents=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(root / name), _frame(i, *(sizes or {}).get(i, (H, W))))
    return root


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return load_predictor("pretrained")  # the shipped model


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_one_ordering_rule_numbers_by_value() -> None:
    names = ["f_10.png", "f_2.png", "f_1.png", "g.png", "f_02b.png", "f_01.png", "10.png", "a²1.png"]
    expected = ["10.png", "a²1.png", "f_01.png", "f_1.png", "f_2.png", "f_02b.png", "f_10.png", "g.png"]
    assert sorted(names, key=frame_order_key) == expected
    assert [p.name for p in in_frame_order([Path(n) for n in names])] == expected  # predict sequence=true


def test_two_naming_schemes_give_the_same_order_and_jumps(tmp_path: Path, predictor: Predictor) -> None:
    short = _folder(tmp_path / "short", [f"f_{i + 1}.png" for i in range(12)])  # f_1 ... f_12
    padded = _folder(tmp_path / "padded", [f"f_{i + 1:02d}.png" for i in range(12)])  # f_01 ... f_12
    assert [p.name for p in list_inputs(short)][:3] == ["f_1.png", "f_2.png", "f_3.png"]  # not f_1, f_10
    summaries = []
    for frames in (short, padded):
        summary = check_footage(predictor, frames, tmp_path / f"out_{frames.name}", n_worst=2)
        summaries.append({k: v for k, v in summary.items() if k != "input"})
        stems = [line.split(",")[0] for line in (tmp_path / f"out_{frames.name}" / "frames.csv").open()][1:]
        assert [int(stem.split("_")[1]) for stem in stems] == list(range(1, 13))
    assert summaries[0] == summaries[1]  # the same jump figures under both names
    assert summaries[0]["step_dy_px"]["max"] < 10  # in time order the horizon moves a few px a frame


def test_frames_of_two_sizes_are_refused_naming_both(tmp_path: Path, predictor: Predictor) -> None:
    frames = _folder(tmp_path / "frames", [f"f_{i}.png" for i in range(6)], sizes={4: (96, 128)})
    with pytest.raises(DataError) as raised:
        check_footage(predictor, frames, tmp_path / "out")
    assert str(raised.value) == (
        f"{frames / 'f_4.png'}: 128x96 px, but {frames / 'f_0.png'}: 64x48 px; the checks compare horizon "
        "heights in px from frame to frame, so every frame of a sequence must have one size (one camera)"
    )
    assert not (tmp_path / "out").exists()  # nothing written


def test_earlier_outputs_are_refused_unless_overwrite(tmp_path: Path, predictor: Predictor) -> None:
    frames = _folder(tmp_path / "frames", [f"f_{i}.png" for i in range(4)])
    out = tmp_path / "out"
    check_footage(predictor, frames, out, n_worst=1)
    (out / "notes.txt").write_text("mine")
    before = _files(out)
    with pytest.raises(ConfigError, match="holds the outputs of an earlier run .*pass overwrite=true"):
        check_footage(predictor, frames, out, n_worst=1)
    assert _files(out) == before
    check_footage(predictor, frames, out, n_worst=1, overwrite=True)
    assert set(_files(out)) == set(before) and (out / "notes.txt").read_text() == "mine"

    # a user's own footage.md (not in the manifest) is never replaced, not even with overwrite=true
    user = tmp_path / "user"
    user.mkdir()
    (user / "footage.md").write_text("my notes")
    record_outputs(user, ["frames.csv"])
    with pytest.raises(ConfigError, match="holds footage.md, which seaSky did not write"):
        check_footage(predictor, frames, user, overwrite=True)
    assert (user / "footage.md").read_text() == "my notes"
    with pytest.raises(ConfigError, match="is the input folder"):  # worst.png would join the frames
        check_footage(predictor, frames, frames)
    assert set(OUTPUTS) <= set(_files(out))


def test_check_footage_reads_a_video(tmp_path: Path, predictor: Predictor) -> None:
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (W, H))
    assert writer.isOpened()
    for i in range(10):
        writer.write(cv2.cvtColor(_frame(i), cv2.COLOR_GRAY2BGR))
    writer.release()
    out = tmp_path / "out"
    summary = check_footage(predictor, video, out, n_worst=2)
    assert summary == json.loads((out / "footage.json").read_text())
    assert summary["n_frames"] == 10 and summary["input"] == str(video)
    rows = (out / "frames.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == [f"{i:06d}" for i in range(10)]
    assert cv2.imread(str(out / "worst.png")) is not None


def test_help_lists_the_options_check_footage_takes() -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("check_footage", return_hydra_config=True)
    assert cfg.ckpt_path is None and cfg.overwrite is False
    text = cfg.hydra.help.template
    assert "$CONFIG" not in text and "$APP_CONFIG_GROUPS" not in text
    for key in cfg:  # every option it takes
        assert key == "hydra" or f"{key}=" in text, key
    assert "hydra.run" not in text
