"""Tests of seaSky.video: reading videos back as grey frames (with and without the reader thread), clear
errors for sources that cannot be opened, and a writer that leaves a readable file when interrupted."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import count_frames
from seaSky.errors import DataError
from seaSky.video import DEFAULT_FPS, FrameSource, VideoWriter, is_video, open_frames

H, W, N, FPS = 64, 80, 12, 10.0


def horizon_frame(i: int, height: int = H, width: int = W) -> np.ndarray:
    """Grey frame: warm sky (200) above a horizon at row 20 + 2 i, cold sea (60) below."""
    rows = np.arange(height)[:, None] * np.ones((1, width))
    return np.where(rows >= 20 + 2 * i, 60, 200).astype(np.uint8)


@pytest.fixture
def horizon_mp4(tmp_path: Path) -> Path:
    """12 frames of 64x80 px, grey stored as BGR (as thermal videos often are), at 10 fps."""
    path = tmp_path / "horizon.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (W, H))
    assert writer.isOpened()
    for i in range(N):
        writer.write(cv2.cvtColor(horizon_frame(i), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


@pytest.mark.parametrize("threaded", [True, False])
def test_video_read_back_as_grey_frames(horizon_mp4: Path, threaded: bool) -> None:
    with open_frames(horizon_mp4, threaded=threaded) as source:
        assert (source.fps, source.fps_known, source.frame_count) == (FPS, True, N)
        assert (source.width, source.height, source.live) == (W, H, False)
        frames = list(source)
    assert [index for index, _, _ in frames] == list(range(N))
    stamps = np.array([stamp for _, stamp, _ in frames])
    assert (np.diff(stamps) > 0).all() and stamps == pytest.approx(np.arange(N) / FPS)
    for i, _, frame in frames:
        assert frame.shape == (H, W) and frame.dtype == np.uint8
        assert np.abs(frame.astype(int) - horizon_frame(i)).mean() < 4  # lossy codec, same picture
        column = frame[:, W // 2]
        assert np.argmax(column < 130) == 20 + 2 * i  # the horizon moved with the frames


def test_is_video_by_suffix() -> None:
    assert all(is_video(f"a{s}") for s in (".mp4", ".AVI", ".mov", ".mkv", ".m4v", ".mpg", ".webm"))
    assert not any(is_video(name) for name in ("a.png", "a.tif", "video", "mp4"))


@pytest.mark.parametrize("kind", ["missing", "garbage", "folder"])
def test_unopenable_file_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("clip.mp4" if kind != "folder" else "clips")
    if kind == "garbage":
        path.write_bytes(b"not a video at all " * 200)
    elif kind == "folder":
        path.mkdir()
    with pytest.raises(DataError) as caught:
        open_frames(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    expected = {"missing": "not found", "garbage": "cannot be opened", "folder": "not a video file"}
    assert expected[kind] in message


def test_camera_and_stream_that_cannot_open() -> None:
    with pytest.raises(DataError, match=r"^camera 9: cannot be opened"):
        open_frames("9")
    with pytest.raises(DataError) as caught:
        open_frames("rtsp://user:secret@127.0.0.1:9/live", open_timeout_s=2)
    assert str(caught.value).startswith("rtsp://user:***@127.0.0.1:9/live: stream cannot be opened")


def test_video_without_frames_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (W, H)).release()  # opens, no frame
    source = open_frames(path)
    with pytest.raises(DataError, match=r"empty.avi: no frame could be decoded$"):
        list(source)


def test_16_bit_grey_video_keeps_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "counts.mkv"
    params = [cv2.VIDEOWRITER_PROP_DEPTH, cv2.CV_16U, cv2.VIDEOWRITER_PROP_IS_COLOR, 0]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*"FFV1"), FPS, (W, H), params)
    if not writer.isOpened():
        pytest.skip("this OpenCV cannot write 16-bit FFV1")
    written = [(horizon_frame(i).astype(np.uint16) * 50 + i) for i in range(3)]
    for frame in written:
        writer.write(frame)
    writer.release()
    frames = [frame for _, _, frame in open_frames(path)]
    assert len(frames) == 3 and all(f.dtype == np.uint16 for f in frames)
    assert all(np.array_equal(a, b) for a, b in zip(frames, written, strict=True))  # lossless


def test_colour_video_is_made_grey_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "palette.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (W, H))
    for i in range(3):
        writer.write(cv2.applyColorMap(horizon_frame(i), cv2.COLORMAP_JET))
    writer.release()
    with caplog.at_level(logging.WARNING, logger="seaSky.video"):
        frames = [frame for _, _, frame in open_frames(path)]
    assert len(frames) == 3 and frames[0].ndim == 2
    assert "colour frames" in caplog.text and "palette.avi" in caplog.text


class FakeCamera:
    """A cv2.VideoCapture stand-in: ``n`` frames as fast as asked, no frame rate, no timestamps."""

    def __init__(self, n: int, fps: float = 0.0) -> None:
        self.n, self.fps, self.i, self.released = n, fps, 0, False

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.i >= self.n:
            return False, None
        self.i += 1
        return True, np.full((H, W, 3), self.i % 256, np.uint8)

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_POS_MSEC: -1.0}.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


def test_unknown_fps_falls_back_and_timestamps_follow_it() -> None:
    source = FrameSource(FakeCamera(5), "fake.mp4", live=False)
    assert (source.fps, source.fps_known, source.frame_count) == (DEFAULT_FPS, False, None)
    stamps = [stamp for _, stamp, _ in source]
    assert stamps == pytest.approx(np.arange(5) / DEFAULT_FPS)


def test_live_source_drops_old_frames_when_the_caller_is_slow() -> None:
    camera = FakeCamera(40)
    source = FrameSource(camera, "camera 0", live=True, queue_size=2, drop_when_full=True)
    seen = []
    for index, stamp, _ in source:
        seen.append((index, stamp))
        time.sleep(0.01)  # slower than the camera
    indices = [i for i, _ in seen]
    assert source.dropped > 0 and len(seen) + source.dropped == 40
    assert indices == sorted(indices) and indices[-1] == 39  # always the newest frames, in order
    assert camera.released


def test_leaving_early_stops_the_reader(horizon_mp4: Path) -> None:
    source = open_frames(horizon_mp4, queue_size=2)
    for index, _, _ in source:
        if index == 2:
            break
    source.close()
    assert source._thread is not None and not source._thread.is_alive()
    assert "seaSky-frame-reader" not in {t.name for t in threading.enumerate()}
    with pytest.raises(RuntimeError, match="only once"):
        next(iter(source))


def test_writer_writes_a_readable_video(tmp_path: Path) -> None:
    path = tmp_path / "out" / "overlay.mp4"
    with VideoWriter(path, FPS) as writer:
        for i in range(N):
            frame = horizon_frame(i)
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if i % 2 else frame)  # BGR or grey
    assert writer.path == path and writer.frames_written == N
    assert count_frames(path) == N
    assert sorted(p.name for p in path.parent.iterdir()) == ["overlay.mp4"]  # no partial file left
    with open_frames(path) as source:
        assert source.fps == pytest.approx(FPS) and source.frame_count == N


def test_writer_falls_back_to_mjpg_avi(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="seaSky.video"),
        VideoWriter(tmp_path / "overlay.mp4", FPS, fourcc="ZZZZ") as writer,
    ):
        for i in range(4):
            writer.write(horizon_frame(i))
    assert writer.path == tmp_path / "overlay.avi" and writer.fourcc == "MJPG"
    assert "writing MJPG into" in caplog.text
    assert count_frames(writer.path) == 4


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_writing_keeps_the_frames_so_far(tmp_path: Path, error: type[BaseException]) -> None:
    path = tmp_path / "overlay.mp4"
    with pytest.raises(error), VideoWriter(path, FPS) as writer:
        for i in range(N):
            if i == 5:
                raise error("stopped")
            writer.write(horizon_frame(i))
    assert count_frames(path) == 5


def test_ctrl_c_leaves_a_readable_video(tmp_path: Path) -> None:
    path = tmp_path / "overlay.mp4"
    script = textwrap.dedent(
        f"""
        import signal
        import numpy as np
        from seaSky.video import VideoWriter
        # Python ignores Ctrl-C in a child started with SIGINT ignored (nohup, `cmd &` in scripts)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with VideoWriter({str(path)!r}, 25.0) as writer:
            i = 0
            while True:
                writer.write(np.full(({H}, {W}), i % 256, np.uint8))
                i += 1
                if i == 10:
                    print("ready", flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode != 0  # KeyboardInterrupt
    assert count_frames(path) >= 10


def test_writer_refuses_frames_it_cannot_write(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "overlay.mp4", FPS) as writer:
        with pytest.raises(ValueError, match="uint8"):
            writer.write(np.zeros((H, W), np.uint16))
        writer.write(horizon_frame(0))
        with pytest.raises(ValueError, match="40x32 px"):
            writer.write(np.zeros((32, 40), np.uint8))
    assert VideoWriter(tmp_path / "nothing.mp4", FPS).close() is None
    assert not (tmp_path / "nothing.mp4").exists()
