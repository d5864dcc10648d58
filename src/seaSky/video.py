"""Video in and out with OpenCV: the frames of a file, camera or stream as greyscale arrays (decoded ahead in
a background thread), and a video writer that leaves a playable file when interrupted.

Example:
    >>> with open_frames("flight.mp4") as source:  # doctest: +SKIP
    ...     with VideoWriter("out/overlay.mp4", source.fps) as writer:
    ...         for index, timestamp_s, frame in source:
    ...             writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from seaSky.errors import DataError
from seaSky.frames import VIDEO_SUFFIXES

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_FPS", "FrameSource", "VideoWriter", "is_video", "open_frames", "to_grey"]

DEFAULT_FPS = 25.0  # when the container or camera reports no frame rate
# FFmpeg's 16-bit grey pixel formats (GRAY16LE, GRAY16BE) as OpenCV reports them: read without BGR conversion
GREY16_FORMATS = ("Y1\x00\x10", "\x10\x001Y")
COLOUR_SPREAD = 8.0  # mean channel spread (8-bit levels) above which a frame is a colour (palette) picture
_END = object()  # the reader thread's last item


def is_video(path: str | Path) -> bool:
    """Whether ``path`` names a video file by its suffix (:data:`seaSky.frames.VIDEO_SUFFIXES`)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _fourcc_text(value: float) -> str:
    code = int(value)
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))


def _hide_password(url: str) -> str:
    """``rtsp://user:secret@host`` -> ``rtsp://user:***@host`` (for messages and logs)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)


def to_grey(frame: np.ndarray) -> np.ndarray:
    """One-channel frame of a decoded frame: grey as is, BGR or BGRA by luminance (exact for grey stored
    as equal channels), in the frame's own dtype (uint8 or uint16)."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[..., 0]
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"cannot make a grey frame of an array of shape {frame.shape}")


def _colour_spread(frame: np.ndarray) -> float:
    """Mean spread between the colour channels of a BGR frame, in 8-bit levels (0 for grey)."""
    if frame.ndim != 3 or frame.shape[2] < 3:
        return 0.0
    sample = frame[::4, ::4, :3].astype(np.float32)
    levels = 255.0 / np.iinfo(frame.dtype).max if frame.dtype.kind == "u" else 1.0
    return float((sample.max(axis=2) - sample.min(axis=2)).mean() * levels)


class FrameSource:
    """The frames of an opened video, camera or stream; iterate once for (index, timestamp_s, grey frame).

    Timestamps: a file's own (its presentation times, or index / fps where it has none), seconds since the
    first frame for a camera or stream. With ``threaded`` a background thread decodes up to ``queue_size``
    frames ahead, so that decoding (and the network, for a stream) overlaps with the caller's work; with
    ``drop_when_full`` it then discards the oldest waiting frame instead of waiting (a live source stays
    current when the caller is slower than it; counted in ``dropped``). Close it (or use ``with``) to stop
    the thread and release the source; iterating to the end closes it too.

    Attributes:
        name: the source for messages (a stream's password hidden).
        live: a camera or stream (no frame count, wall-clock timestamps).
        fps: frames per second (``DEFAULT_FPS`` where unknown; ``fps_known`` says which).
        frame_count: the container's frame count (may be an estimate), None for live or unknown.
        width, height: frame size in px (0 where the source does not say before the first frame).
    """

    def __init__(
        self,
        capture: cv2.VideoCapture,
        name: str,
        live: bool,
        threaded: bool = True,
        queue_size: int = 8,
        drop_when_full: bool = False,
    ) -> None:
        self._capture = capture
        self.name = name
        self.live = live
        self.threaded = threaded
        self.drop_when_full = drop_when_full
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps_known = math.isfinite(fps) and 0 < fps <= 1000
        self.fps = float(fps) if self.fps_known else DEFAULT_FPS
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if not live and math.isfinite(count) and count > 0 else None
        self.width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.dropped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._closed = False

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        if self._started:
            raise RuntimeError(f"{self.name}: a FrameSource can be iterated only once; open it again")
        self._started = True
        try:
            items = self._decode() if not self.threaded else self._from_thread()
            n = 0
            for item in items:
                n += 1
                yield item
            if n == 0 and not self._stop.is_set():
                what = "received" if self.live else "decoded"
                raise DataError(f"{self.name}: no frame could be {what}")
        finally:
            self.close()

    def _decode(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """Read and convert frames until the source ends or close() is called."""
        index, start, last = 0, 0.0, -math.inf
        while not self._stop.is_set():
            ok, frame = self._capture.read()
            if not ok or frame is None:
                return
            if self.live:
                now = time.monotonic()
                start = now if index == 0 else start
                stamp = now - start
            else:
                ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
                ok_ms = math.isfinite(ms) and ms >= 0 and ms / 1000.0 > last
                stamp = ms / 1000.0 if ok_ms else (0.0 if index == 0 else last + 1.0 / self.fps)
            last = stamp
            if index == 0 and _colour_spread(frame) > COLOUR_SPREAD:
                log.warning(
                    "%s: colour frames, converted to grey by luminance (a false-colour palette does not map "
                    "back to temperature; record grey if the camera can)",
                    self.name,
                )
            yield index, stamp, to_grey(frame)
            index += 1

    def _from_thread(self) -> Iterator[tuple[int, float, np.ndarray]]:
        self._thread = threading.Thread(target=self._read_ahead, name="seaSky-frame-reader", daemon=True)
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _read_ahead(self) -> None:
        """The reader thread: decode into the queue; an error is handed on to the consumer."""
        try:
            for item in self._decode():
                self._put(item, droppable=True)
        except Exception as err:
            self._put(err)
        finally:
            self._put(_END)

    def _put(self, item: object, droppable: bool = False) -> None:
        """Queue an item, waiting for room (checking for close() every 0.1 s), or with ``drop_when_full``
        making room for a frame by discarding the oldest one."""
        drop = droppable and self.drop_when_full
        while not self._stop.is_set():
            try:
                self._queue.put(item, block=not drop, timeout=None if drop else 0.1)
                return
            except queue.Full:
                if drop:
                    try:
                        self._queue.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass

    def close(self) -> None:
        """Stop the reader thread and release the source (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():  # a camera read that does not return: leave it to the daemon thread
                log.warning("%s: the frame reader did not stop; the source is not released", self.name)
                return
        self._capture.release()


def _source_of(source: str | int | Path) -> tuple[str | int, str, bool]:
    """(what cv2.VideoCapture opens, the name for messages, live) of a file, camera index or URL."""
    if isinstance(source, bool):
        raise DataError(f"{source!r}: not a video source (give a file, a camera index or a stream URL)")
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        index = int(source)
        return index, f"camera {index}", True
    text = str(source)
    if "://" in text:
        return text, _hide_password(text), True
    path = Path(text)
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a video file")
    if not path.is_file():
        raise DataError(f"{path}: video file not found")
    return str(path), str(path), False


def open_frames(
    source: str | int | Path,
    *,
    threaded: bool = True,
    queue_size: int = 8,
    drop_when_full: bool | None = None,
    open_timeout_s: float = 10.0,
) -> FrameSource:
    """Open a video file (any format this OpenCV decodes), a camera (index ``0`` or ``"0"``) or a stream URL
    (``rtsp://``, ``http://``, ...) as a :class:`FrameSource`.

    Args:
        source: the file, camera index or URL.
        threaded: decode in a background thread, up to ``queue_size`` frames ahead.
        drop_when_full: discard the oldest waiting frame when the caller falls behind; None: for cameras and
            streams (stay current), not for files (every frame).
        open_timeout_s: longest wait for a stream to open, and for each of its frames.

    Raises:
        DataError: one line naming the source when it is missing or cannot be opened.
    """
    target, name, live = _source_of(source)
    timeout_ms = round(open_timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    capture = cv2.VideoCapture(target, cv2.CAP_ANY, params if isinstance(target, str) and live else [])
    if not capture.isOpened():
        capture.release()
        if isinstance(target, int):
            raise DataError(f"{name}: cannot be opened (no such camera, or another program uses it)")
        if live:
            raise DataError(f"{name}: stream cannot be opened (unreachable, wrong address or unknown format)")
        raise DataError(
            f"{name}: cannot be opened as a video (not a video, or a format OpenCV cannot decode)"
        )
    if _fourcc_text(capture.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)) in GREY16_FORMATS:
        capture.set(cv2.CAP_PROP_CONVERT_RGB, 0)  # 16-bit grey: keep the counts, not an 8-bit BGR picture
    drop = live if drop_when_full is None else drop_when_full
    return FrameSource(capture, name, live, threaded=threaded, queue_size=queue_size, drop_when_full=drop)


class VideoWriter:
    """Write 8-bit frames (BGR or grey, all one size) into a video that stays playable when interrupted.

    Frames go into a hidden partial file beside ``path`` that :meth:`close` renames to ``path``; close runs
    on leaving a ``with`` block, also on an exception or Ctrl-C, so the frames written so far stay readable
    (a killed process leaves only the hidden partial file, and an earlier ``path`` untouched).
    The writer opens at the first frame (its size); where this OpenCV cannot open ``fourcc`` for ``path``
    (mp4v for .mp4), it writes MJPG into ``path`` with the suffix .avi instead and logs so: ``self.path`` is
    the file written.

    Args:
        path: the video to write (its suffix picks the container).
        fps: frames per second.
        fourcc: the codec, four characters.
    """

    def __init__(self, path: str | Path, fps: float, fourcc: str = "mp4v") -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"{path}: fps must be > 0, got {fps!r}")
        if len(fourcc) != 4:
            raise ValueError(f"{path}: fourcc must have 4 characters, got {fourcc!r}")
        self.path = Path(path)
        self.fps = float(fps)
        self.fourcc = fourcc
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._partial: Path | None = None
        self._size: tuple[int, int] | None = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for path, fourcc in ((self.path, self.fourcc), (self.path.with_suffix(".avi"), "MJPG")):
            partial = path.with_name(f".{path.stem}.partial{path.suffix}")
            writer = cv2.VideoWriter(str(partial), cv2.VideoWriter.fourcc(*fourcc), self.fps, (width, height))
            if writer.isOpened():
                if path != self.path:
                    log.warning(
                        "%s: this OpenCV cannot write %s video here; writing MJPG into %s instead",
                        self.path, self.fourcc, path,
                    )  # fmt: skip
                self._writer, self._partial, self.path, self.fourcc = writer, partial, path, fourcc
                self._size = (width, height)
                return
            writer.release()
            partial.unlink(missing_ok=True)
        raise DataError(f"{self.path}: no video writer can be opened ({self.fourcc} nor MJPG .avi)")

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: uint8, (H, W, 3) BGR or (H, W) grey, the size of the first frame."""
        if frame.dtype != np.uint8 or not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
            raise ValueError(
                f"{self.path}: frames must be uint8 BGR or grey, got {frame.dtype} {frame.shape}"
            )
        height, width = frame.shape[:2]
        if self._writer is None:
            self._open(width, height)
        if (width, height) != self._size:
            raise ValueError(f"{self.path}: frame of {width}x{height} px in a video of {self._size} px")
        assert self._writer is not None
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame)
        self.frames_written += 1

    def close(self) -> Path | None:
        """Finish the file and move it into place; the path written (None when no frame was or already
        closed)."""
        if self._writer is None or self._partial is None:
            return None
        writer, partial = self._writer, self._partial
        self._writer = self._partial = None
        try:
            writer.release()
        finally:
            os.replace(partial, self.path)
        return self.path
