"""The frames to run a model on: one image file or the image files of a folder, read in batches."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from seaSky.data.folder import IMAGE_SUFFIXES, read_image
from seaSky.errors import DataError

log = logging.getLogger(__name__)
SUPPORTED = ", ".join(IMAGE_SUFFIXES)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".ts", ".seq")
# Smallest frame side (px) predicted. The network never sees a frame's own size (every frame is resized to
# its input size), but a frame of a few pixels has no horizon to find: its percentile stretch is
# degenerate and a horizon line needs at least 2 columns (HorizonLine) to be scaled back onto it.
MIN_FRAME_SIZE = 8


def frame_order_key(path: str | Path) -> tuple:
    """The one ordering rule of every sequence reader (check_footage, adapt, predict): by file name, numbers
    by value (``f_2`` before ``f_10``, ``f_1`` and ``f_01`` alike); equal keys by the name itself."""
    name = Path(path).name
    parts = re.split(r"([0-9]+)", name)  # odd positions: the runs of ASCII digits
    key = tuple((0, int(part), "") if i % 2 else (1, 0, part) for i, part in enumerate(parts))
    return (key, name)


def list_inputs(path: str | Path) -> list[Path]:
    """The frames to predict: one image file, or the image files of a folder (not recursive) in frame
    order (:func:`frame_order_key`: numbers by value).

    Raises DataError when there is no frame (a missing path, an empty folder, a file that is not an
    image, a video) or when two frames share a stem (their outputs would collide).
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{path}: {_not_an_image(path)}; supported: {SUPPORTED} image files or a folder")
        return [path]
    if not path.exists():
        raise DataError(f"{path}: input not found; give an image file ({SUPPORTED}) or a folder of them")
    if not path.is_dir():
        raise DataError(f"{path}: input is neither an image file nor a folder")
    files = sorted((p for p in path.iterdir() if p.is_file()), key=frame_order_key)
    frames = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not frames:
        videos = [p.name for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
        hint = f" ({videos[0]} is a video: seaSky.predict takes it as input=FILE)" if videos else ""
        raise DataError(f"{path}: no image frames ({SUPPORTED}) in it{hint}")
    _check_stems(frames)
    return frames


def _not_an_image(path: Path) -> str:
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "a video: seaSky.predict reads videos, this command image frames (extract them into a folder)"
    return "not an image frame"


def _check_stems(frames: Sequence[Path]) -> None:
    """Raise DataError naming both files where two frames share a stem (e.g. x.png and x.tif)."""
    seen: dict[str, Path] = {}
    clashes = []
    for frame in frames:
        if frame.stem in seen:
            clashes.append(f"{seen[frame.stem].name} and {frame.name}")
        else:
            seen[frame.stem] = frame
    if clashes:
        raise DataError(
            f"{frames[0].parent}: frames with the same stem would write the same outputs "
            f"({'; '.join(clashes)}); rename or remove one of each"
        )


def check_size(path: Path, image: np.ndarray) -> None:
    """Raise DataError naming the file when the frame is smaller than MIN_FRAME_SIZE on a side."""
    height, width = image.shape[:2]
    least = MIN_FRAME_SIZE
    if min(height, width) < least:
        raise DataError(
            f"{path}: {width}x{height} px (width x height), smaller than the {least}x{least} px minimum"
        )


def read_batches(paths: Sequence[Path], size: int) -> Iterator[list[tuple[Path, np.ndarray]]]:
    """Readable frames in batches; unreadable ones and those smaller than MIN_FRAME_SIZE are skipped with
    a warning naming the file."""
    batch: list[tuple[Path, np.ndarray]] = []
    for path in paths:
        try:
            image = read_image(path)
            check_size(path, image)
            batch.append((path, image))
        except DataError as err:
            log.warning("skipped: %s", err)
            continue
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
