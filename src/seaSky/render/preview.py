"""Contact sheets of rendered scenes: AGC'd frames with the mask outline (green) and the true horizon
chord (red), saved as a small palette PNG."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from seaSky.errors import ConfigError
from seaSky.render.dataset import read_meta
from seaSky.render.pipeline import Scene
from seaSky.render.sensor import to_8bit


def _tile(image: np.ndarray, mask: np.ndarray, meta: dict) -> np.ndarray:
    grey = to_8bit(image)
    tile = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    m = mask.astype(bool)
    edge = np.zeros_like(m)
    edge[1:] |= m[1:] != m[:-1]
    edge[:, 1:] |= m[:, 1:] != m[:, :-1]
    tile[edge] = (60, 220, 60)
    w = image.shape[1]
    yl, yr = meta.get("y_left"), meta.get("y_right")
    if yl not in (None, "") and yr not in (None, ""):
        s = 16
        cv2.line(
            tile,
            (0, round(float(yl) * s)),
            ((w - 1) * s, round(float(yr) * s)),
            (40, 40, 230),
            1,
            cv2.LINE_8,
            shift=4,
        )
    c = meta.get("horizon_contrast_sigma")
    text = f"{meta.get('polarity', '')} {float(c):.1f}s" if c not in (None, "") else "no horizon"
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_8)
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 230, 255), 1, cv2.LINE_8)
    return tile


def contact_sheet(
    out_dir_or_scenes: str | os.PathLike | Sequence[Scene],
    path: str | os.PathLike,
    cols: int = 6,
    max_tiles: int = 24,
) -> Path:
    """Grid of AGC'd scenes with the mask outline (green) and the meta horizon chord (red); returns path."""
    tiles = []
    if isinstance(out_dir_or_scenes, (str, os.PathLike)):
        root = Path(out_dir_or_scenes)
        for row in read_meta(root)[:max_tiles]:
            img = cv2.imread(str(root / "images" / f"{row['stem']}.png"), cv2.IMREAD_UNCHANGED)
            mask = cv2.imread(str(root / "masks" / f"{row['stem']}.png"), cv2.IMREAD_GRAYSCALE) > 127
            tiles.append(_tile(img, mask, row))
    else:
        tiles = [_tile(s.image, s.mask, s.meta) for s in list(out_dir_or_scenes)[:max_tiles]]
    if not tiles:
        raise ConfigError("contact_sheet: no scenes to show")
    h, w = tiles[0].shape[:2]
    rows = math.ceil(len(tiles) / cols)
    sheet = np.full((rows * (h + 2), min(cols, len(tiles)) * (w + 2), 3), 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = t
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_palette_png(sheet, path)
    return path


OVERLAY_BGR = ((60, 220, 60), (40, 40, 230), (0, 230, 255), (0, 0, 0))


def _save_palette_png(sheet: np.ndarray, path: Path) -> None:
    """Save a grey-plus-overlay BGR image as an 8-bit palette PNG (~3x smaller than RGB, colours exact)."""
    try:
        from PIL import Image  # Pillow comes with matplotlib
    except ImportError:
        cv2.imwrite(str(path), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        return
    n_grey = 256 - len(OVERLAY_BGR)
    index = (sheet[:, :, 1].astype(np.uint16) * (n_grey - 1) // 255).astype(np.uint8)
    palette = [round(v * 255 / (n_grey - 1)) for v in range(n_grey) for _ in range(3)]
    grey = (sheet[:, :, 0] == sheet[:, :, 1]) & (sheet[:, :, 1] == sheet[:, :, 2])
    for k, bgr in enumerate(OVERLAY_BGR):
        palette += [bgr[2], bgr[1], bgr[0]]
        index[~grey & (np.abs(sheet.astype(np.int16) - bgr).sum(-1) < 60)] = n_grey + k
    img = Image.fromarray(index, mode="P")
    img.putpalette(palette)
    img.save(path, optimize=True)
