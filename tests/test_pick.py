"""seaSky.pick: frames worth labelling, spread over the footage and where the model is least sure; written
into OUT/images/ with OUT/picked.csv, by the data-safety rules of seaSky.io."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import write_scene
from seaSky.errors import ConfigError, DataError
from seaSky.inference import load_predictor
from seaSky.pick import check_settings, pick, pick_indices

H, W = 48, 64


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint: Path):
    return load_predictor(tiny_checkpoint)


def _frames(folder: Path, n: int) -> Path:
    for i in range(n):
        write_scene(folder, folder.parent / "masks_unused", f"f_{i}", size=(H, W), seed=i)
    return folder


def _rows(out: Path) -> list[dict]:
    with open(out / "picked.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_pick_indices_one_per_segment_the_least_sure_and_never_neighbours() -> None:
    scores = np.zeros(20)
    scores[[2, 7, 13, 18]] = [5, 1, 3, 2]  # one suspect frame in each quarter
    assert pick_indices(scores, 4) == [2, 7, 13, 18]
    flat = np.zeros(20)
    flat[[4, 5]] = 9  # two suspect neighbours at the end of the first quarter and the start of the second
    picks = pick_indices(flat, 4)
    assert picks[0] == 4 and picks[1] >= 4 + 20 / 4 / 2  # the second keeps half a segment away
    assert picks == sorted(picks) and len(set(picks)) == 4
    assert pick_indices([1.0, 2.0], 5) == [0, 1]  # fewer frames than n: all of them


def test_pick_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="n must be a whole number of at least 1, got 0"):
        check_settings(0, 1, 8)
    with pytest.raises(ConfigError, match="every must be a whole number"):
        check_settings(3, True, 8)


def test_pick_a_folder_copies_the_picks_and_keeps_the_rules_of_outputs(tmp_path: Path, predictor) -> None:
    frames = _frames(tmp_path / "in", 12)
    out = tmp_path / "out"
    rows = pick(predictor, frames, out, n=3)
    assert [r["segment"] for r in rows] == [0, 1, 2]
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    assert all(4 * r["segment"] <= r["index"] < 4 * (r["segment"] + 1) for r in rows)
    written = _rows(out)
    assert [r["file"] for r in written] == [r["file"] for r in rows] and all(r["why"] for r in written)
    for row in rows:  # the picked frame copied byte for byte, named as it was
        name = Path(row["file"]).name
        assert (out / "images" / name).read_bytes() == (frames / name).read_bytes()
        assert row["source"] == str(frames / name) and name == f"f_{row['index']}.png"
    assert len(list((out / "images").iterdir())) == 3
    with pytest.raises(ConfigError, match="holds the outputs of an earlier run"):
        pick(predictor, frames, out, n=3)
    again = pick(predictor, frames, out, n=2, overwrite=True)  # replaces its own earlier pick
    assert len(list((out / "images").iterdir())) == 2 and len(_rows(out)) == len(again) == 2
    (out / "lines.csv").write_text("file,x1,y1,x2,y2\n")  # the picks have labels now
    with pytest.raises(ConfigError, match="holds labels of the frames picked there before"):
        pick(predictor, frames, out, n=2, overwrite=True)
    mine = tmp_path / "mine"
    (mine / "images").mkdir(parents=True)  # a user's own images/ is never replaced
    with pytest.raises(ConfigError, match="which seaSky did not write"):
        pick(predictor, frames, mine, n=2, overwrite=True)
    with pytest.raises(ConfigError, match="holds the input frames"):
        pick(predictor, frames, frames, n=2)


def test_pick_a_video_writes_its_frames_as_png(tmp_path: Path, predictor) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (W, H), isColor=False)
    for i in range(10):
        frame = np.full((H, W), 60, np.uint8)
        frame[H // 2 + (i % 3) :] = 160
        writer.write(frame)
    writer.release()
    rows = pick(predictor, video, tmp_path / "out", n=2, every=2)
    assert [r["index"] % 2 for r in rows] == [0, 0]  # every=2: only even frames were checked
    for row in rows:
        assert row["file"] == f"images/clip_{row['index']:06d}.png"
        image = cv2.imread(str(tmp_path / "out" / row["file"]), cv2.IMREAD_UNCHANGED)
        assert image.shape == (H, W) and row["source"] == f"{video} frame {row['index']}"
    with pytest.raises(DataError, match="a camera or stream"):
        pick(predictor, "rtsp://camera/stream", tmp_path / "o2", n=2)
