"""Horizon ground truth of a rendered scene: the sea's upper boundary (the sea-sky horizon, or the
waterline of a near coast that hides it), and the contrast and polarity of the scene at that line."""

from __future__ import annotations

import numpy as np

# a near coast's waterline is the horizon truth where the coast covers at least MIN_NEAR_COAST_COVER of
# the columns with the waterline in frame, and these are at least MIN_WATERLINE_IN_FRAME of the width
MIN_NEAR_COAST_COVER = 0.75
MIN_WATERLINE_IN_FRAME = 0.25


def near_coast_cover(coast: np.ndarray, waterline_rows: np.ndarray) -> float | None:
    """Share of the columns with the waterline in frame where the coast stands right above it; None when
    the waterline is in frame in under MIN_WATERLINE_IN_FRAME of the width."""
    h, w = coast.shape
    cols = np.flatnonzero((waterline_rows > 0) & (waterline_rows < h - 1))
    if cols.size < MIN_WATERLINE_IN_FRAME * w:
        return None
    above = np.ceil(waterline_rows[cols]).astype(np.intp) - 1  # last pixel centre above the waterline
    return float(coast[above, cols].mean())


def horizon_truth(
    sea_sky_rows: np.ndarray, waterlines: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, dict]:
    """The true upper boundary of the sea per column (sub-pixel rows) and its meta.

    ``waterlines``: (waterline rows per column, pixels) of things standing on the water nearer than the
    horizon (a near coast's front ridge, quays). The nearest one that stands on at least
    MIN_NEAR_COAST_COVER of the columns with its waterline in frame hides the horizon: its waterline is
    the truth (``horizon_kind`` ``waterline``); else the horizon's ``sea_sky_rows`` (``sea_sky``).
    ``near_coast_cover``: the cover of the nearest waterline in frame (None: none in frame).
    """
    meta: dict = {"horizon_kind": "sea_sky", "near_coast_cover": None}
    for rows, pixels in sorted(waterlines, key=lambda w: -float(np.median(w[0]))):  # nearest (lowest) first
        cover = near_coast_cover(pixels, rows)
        if cover is None:
            continue
        if meta["near_coast_cover"] is None:
            meta["near_coast_cover"] = cover
        if cover >= MIN_NEAR_COAST_COVER:
            meta["horizon_kind"] = "waterline"
            return rows, meta
    return sea_sky_rows, meta


def horizon_contrast(
    clean: np.ndarray,
    mask: np.ndarray,
    obj: np.ndarray,
    rows: np.ndarray,
    sigma: float,
    band: int = 5,
    segments: int = 8,
) -> dict:
    """Mean |sea - not-sea| in a +-band px strip around the horizon (noise-free counts, in noise sigmas),
    averaged over column segments; polarity from the signs of the segment differences."""
    h, w = mask.shape
    dist = np.arange(h, dtype=np.float32)[:, None] - rows[None, :].astype(np.float32)
    sea_band = (dist > 0) & (dist <= band) & (mask == 1)
    sky_band = (dist < 0) & (dist >= -band) & (mask == 0) & ~obj
    # the rows around the horizon only: the same pixels, in the same order
    live = np.flatnonzero((sea_band | sky_band).any(axis=1))
    near = slice(int(live[0]), int(live[-1]) + 1) if live.size else slice(0, 0)
    sea_band, sky_band, clean = sea_band[near], sky_band[near], clean[near]
    diffs = []
    for cols in np.array_split(np.arange(w), min(segments, w)):
        a, b = sea_band[:, cols], sky_band[:, cols]
        if a.sum() >= 3 and b.sum() >= 3:
            diffs.append(float(clean[:, cols][a].mean() - clean[:, cols][b].mean()))
    if not diffs:
        return {"horizon_contrast_sigma": None, "horizon_diff_sigma": None, "polarity": "none"}
    d = np.array(diffs) / sigma
    pos = float((d > 0).mean())
    polarity = "sea_warmer" if pos >= 0.8 else "sky_warmer" if pos <= 0.2 else "mixed"
    return {
        "horizon_contrast_sigma": float(np.abs(d).mean()),
        "horizon_diff_sigma": float(d.mean()),
        "polarity": polarity,
    }
