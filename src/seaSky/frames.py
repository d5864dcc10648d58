"""The frames to run a model on: one image file or the image files of a folder, read in batches."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from seaSky.data.folder import IMAGE_SUFFIXES, read_image
from seaSky.errors import DataError

log = logging.getLogger(__name__)


def list_inputs(path: str | Path) -> list[Path]:
    """The frames to predict: one image file, or the image files of a folder (sorted, not recursive)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    raise DataError(f"{path}: input is neither an image file nor a folder")


def read_batches(paths: Sequence[Path], size: int) -> Iterator[list[tuple[Path, np.ndarray]]]:
    """Readable frames in batches; unreadable ones are skipped with a warning naming the file."""
    batch: list[tuple[Path, np.ndarray]] = []
    for path in paths:
        try:
            batch.append((path, read_image(path)))
        except DataError as err:
            log.warning("skipped: %s", err)
            continue
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
