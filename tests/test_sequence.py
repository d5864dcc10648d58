"""Sequences in seaSky.predict: a video (or a folder with sequence=true) in, horizon.csv with a raw and a
tracked line per frame, overlay.mp4 and masks out; Ctrl-C and SIGTERM leave what was written readable."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import count_frames, run_cli, write_scene
from seaSky.data.preprocess import integer_percentiles, normalize_image
from seaSky.errors import ConfigError
from seaSky.frames import list_inputs
from seaSky.inference import Predictor, resolve_precision
from seaSky.io import record_outputs
from seaSky.predict import earlier_predictions, tracker_config
from seaSky.sequence import (
    SEQUENCE_COLUMNS,
    SequenceSource,
    SequenceWriter,
    check_fps,
    in_frame_order,
    is_sequence_input,
    is_stream,
    mask_format,
    open_sequence,
    predict_sequence,
)
from seaSky.tracker import STATES

H, W, N = 48, 64, 10


def scene_frame(i: int) -> np.ndarray:
    """Grey 8-bit frame: warm sky above a horizon at row 18 + i, cold textured sea below."""
    rng = np.random.default_rng(i)
    rows = np.arange(H)[:, None] * np.ones((1, W))
    frame = np.where(rows >= 18 + i, 70.0, 190.0) + rng.normal(0, 4, (H, W))
    return np.clip(frame, 0, 255).astype(np.uint8)


def write_video(path: Path, n: int = N, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(cv2.cvtColor(scene_frame(i), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_video_in_csv_rows_overlay_and_mask_video_out(tmp_path: Path, tiny_checkpoint: Path) -> None:
    video = write_video(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    done = run_cli(
        "predict", f"ckpt_path={tiny_checkpoint}", f"input={video}", f"output_dir={out}", "save_masks=video"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{N} frames of {video}" in done.stdout + done.stderr
    rows = read_rows(out / "horizon.csv")
    assert list(rows[0]) == list(SEQUENCE_COLUMNS)
    assert [int(r["frame"]) for r in rows] == list(range(N))
    stamps = [float(r["timestamp_s"]) for r in rows]
    assert stamps == pytest.approx([i / 10.0 for i in range(N)], abs=1e-3)
    assert all(r["state"] in STATES for r in rows)
    for row in rows:  # a raw line, or none: never half of one
        raw = [row["y_left"], row["y_right"], row["angle_deg"], row["confidence"]]
        assert all(raw) or not any(raw)
    assert count_frames(out / "overlay.mp4") == N
    capture = cv2.VideoCapture(str(out / "overlay.mp4"))
    ok, picture = capture.read()
    assert ok and picture.shape == (H, W, 3)
    assert count_frames(out / "masks.mkv") == N
    assert not list(out.glob(".*partial*"))


def test_folder_sequence_names_frames_by_stem_at_the_given_fps(tmp_path: Path, tiny_checkpoint: Path) -> None:
    frames = tmp_path / "frames"
    for i in range(6):
        write_scene(frames, tmp_path / "_masks", f"f{i:02d}", size=(H, W), seed=i)
    out = tmp_path / "out"
    source = open_sequence(str(frames), list_inputs(frames), fps=5)
    predictor = Predictor.from_checkpoint(tiny_checkpoint)
    summary = predict_sequence(predictor, source, out, overlay=False, save_masks="png", progress=False)
    assert summary.frames == 6 and summary.interrupted is None
    rows = read_rows(out / "horizon.csv")
    assert [r["name"] for r in rows] == [f"f{i:02d}" for i in range(6)]
    assert [float(r["timestamp_s"]) for r in rows] == pytest.approx([i / 5 for i in range(6)])
    assert not (out / "overlay.mp4").exists()
    masks = sorted((out / "masks").glob("*.png"))
    assert [m.stem for m in masks] == [f"f{i:02d}" for i in range(6)]
    assert set(np.unique(cv2.imread(str(masks[0]), cv2.IMREAD_UNCHANGED)).tolist()) <= {0, 255}


def _interrupting(frames: Iterator, after: int, interrupt) -> Iterator:
    for n, item in enumerate(frames):
        if n == after:
            interrupt()
        yield item


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_a_signal_ends_cleanly_with_the_frames_so_far_readable(
    tmp_path: Path, tiny_checkpoint: Path, how: str
) -> None:
    """The real signal path in-process: the handler turns SIGINT/SIGTERM into a clean stop after frame 4."""
    video = write_video(tmp_path / "clip.mp4", n=12)
    source = open_sequence(str(video))
    frames = _interrupting(source.frames, 4, lambda: os.kill(os.getpid(), getattr(signal, how)))
    stopped = SequenceSource(frames, source.name, source.fps, 12, False, source.close)
    out = tmp_path / "out"
    summary = predict_sequence(Predictor.from_checkpoint(tiny_checkpoint), stopped, out, batch_size=1)
    assert summary.interrupted == how
    assert summary.frames == 4
    assert len(read_rows(out / "horizon.csv")) == 4
    assert count_frames(out / "overlay.mp4") == 4
    assert not list(out.glob(".*partial*"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are given back


@pytest.mark.slow  # the same path as the in-process signal tests, plus the exit code: make test-full
def test_sigterm_from_outside_exits_143_with_the_rows_so_far(tmp_path: Path, tiny_checkpoint: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(1000):
        cv2.imwrite(str(frames / f"{i:04d}.png"), scene_frame(i % 20))
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "seaSky.predict", f"ckpt_path={tiny_checkpoint}", f"input={frames}",
        f"output_dir={out}", "sequence=true", "batch_size=1",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    partial = out / ".horizon.partial.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if partial.is_file() and partial.read_text().count("\n") > 1:  # rows are on disk: mid-sequence
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 143, output[-2000:]
    assert "stopped by SIGTERM after" in output
    rows = read_rows(out / "horizon.csv")
    assert 0 < len(rows) < 1000
    assert count_frames(out / "overlay.mp4") == len(rows)
    assert not partial.exists()


def test_unknown_tracker_setting_and_earlier_outputs_are_refused(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "overlay.mp4").write_bytes(b"earlier")
    record_outputs(out, ["overlay.mp4"])  # an earlier run's (a run records what it writes)
    with pytest.raises(ConfigError, match="out: holds the outputs of an earlier run .*overlay.mp4"):
        earlier_predictions(video, out, overwrite=False)
    assert earlier_predictions(video, out, overwrite=True) == [out / "overlay.mp4"]
    with pytest.raises(ConfigError, match="tracker.gate: not a tracker setting; settings: gate_px, gate_deg"):
        tracker_config({"gate": 3})
    assert tracker_config({"gate_px": 4}).gate_px == 4


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_percentiles_equal_numpys_to_the_last_bit(dtype: type) -> None:
    rng = np.random.default_rng(3)
    top = 256 if dtype == np.uint8 else 16384
    for shape in [(51, 67), (1, 1), (2, 3), (7, 11)]:
        for _ in range(40):
            image = rng.integers(0, top, shape).astype(dtype)
            percents = [*rng.uniform(0, 100, 3).tolist(), 0.0, 1.0, 99.0, 100.0]
            assert integer_percentiles(image, percents) == np.percentile(image, percents).tolist()
        low, high = np.percentile(image, [1.0, 99.0])
        reference = np.clip((image - low) / max(high - low, 1e-6), 0, 1)
        assert np.abs(normalize_image(image) - reference).max() < 1e-6
    with pytest.raises(ConfigError, match="0 <= low < high <= 100, got 99, 1"):
        normalize_image(image, low=99, high=1)


def test_a_second_signal_while_closing_loses_nothing(
    tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C pressed again while the outputs are being closed: noted, not raised; all is written."""
    close = SequenceWriter.close

    def close_under_fire(self: SequenceWriter) -> list[Path]:
        os.kill(os.getpid(), signal.SIGTERM)
        return close(self)

    monkeypatch.setattr(SequenceWriter, "close", close_under_fire)
    video = write_video(tmp_path / "clip.mp4", n=12)
    source = open_sequence(str(video))
    frames = _interrupting(source.frames, 4, lambda: os.kill(os.getpid(), signal.SIGINT))
    stopped = SequenceSource(frames, source.name, source.fps, 12, False, source.close)
    out = tmp_path / "out"
    summary = predict_sequence(Predictor.from_checkpoint(tiny_checkpoint), stopped, out, batch_size=1)
    assert summary.interrupted == "SIGINT"
    assert len(read_rows(out / "horizon.csv")) == 4 and count_frames(out / "overlay.mp4") == 4
    assert not list(out.glob(".*partial*"))


def test_a_folder_named_by_digits_is_a_folder_not_a_camera(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert is_stream("0") and is_stream(0) and is_stream("rtsp://host/x")
    (tmp_path / "20240512").mkdir()
    assert not is_stream("20240512") and not is_sequence_input("20240512", sequence=False)
    with pytest.raises(ConfigError, match="fps must be a finite number > 0 or null, got inf"):
        check_fps(float("inf"))
    with pytest.raises(ConfigError, match="save_masks must be one of false, png, video; got 'jpg'"):
        mask_format("jpg")


def test_bf16_prediction_agrees_with_float32(tiny_checkpoint: Path) -> None:
    frames = [scene_frame(i) for i in range(4)]
    exact = Predictor.from_checkpoint(tiny_checkpoint, precision="32").predict(frames)
    fast = Predictor.from_checkpoint(tiny_checkpoint, precision="bf16").predict(frames)
    for a, b in zip(exact, fast, strict=True):
        assert np.abs(a.prob - b.prob).max() < 0.05
        assert (a.mask != b.mask).mean() < 0.01
    assert resolve_precision("32", Predictor.from_checkpoint(tiny_checkpoint).device) == "32"
    with pytest.raises(ValueError, match="precision must be one of auto, 32, bf16, got 'fp8'"):
        resolve_precision("fp8", Predictor.from_checkpoint(tiny_checkpoint).device)


def test_folder_frames_come_in_time_order_numbers_by_value() -> None:
    names = ["f_10.png", "f_2.png", "f_1.png", "g.png", "f_02b.png"]
    ordered = [p.name for p in in_frame_order([Path(n) for n in names])]
    assert ordered == ["f_1.png", "f_2.png", "f_02b.png", "f_10.png", "g.png"]
