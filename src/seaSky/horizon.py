"""Sea mask -> straight horizon line (or "no horizon in view"), and horizon error measures.

Conventions: pixel centres lie at integer coordinates, x to the right, y down. A line is stored by its y at
x = 0 and x = width - 1. With the mask convention "pixel (x, y) is sea iff y > line(x)", the boundary between
the last non-sea row r - 1 and the first sea row r of a column lies at y = r - 0.5.

Method of `fit_horizon`:
1. Clean the mask: fill non-sea components that do not touch the top row (holes in the sea, vessels and
   buoys fully inside the sea, the camera's own bow or railing), then keep the sea components that touch
   the bottom row (drops sea-classified blobs in the sky, e.g. foam or glint "above" the horizon).
2. Candidates: every sky -> sea transition down every column, at y = r - 0.5, or, with a probability map,
   where the probability crosses 0.5 between rows r - 1 and r (sub-pixel). Columns whose boundary lies
   outside the frame (steep lines entering through a side) simply give no candidate.
3. Robust line: MSAC (RANSAC scored by truncated squared residuals) over candidate pairs with a 1.5 px
   vertical inlier band, then least squares on the inliers, iterated until the inlier set is stable.
   Columns where a vessel on the horizon pushes the boundary down, foam and holes are outliers.
   Candidates above the line cost more than those below (prefer the horizon over a vessel's waterline),
   unless plain MSAC finds a line with over three times the support: a large false-sea region above the
   horizon (a coast taken for sea) is likelier than a vessel hiding over 3/4 of the horizon. If the chosen
   line fails the checks of step 4, the other one is tried.
4. Checks and confidence: the inlier share (inlier columns / columns where the line is inside the frame),
   the purity of the cleaned mask on both sides of the line, and, with `prob`, the sharpness of the
   probability step across the line. Too few inliers, a low share or an impure split -> None.

Errors as in the horizon-detection literature (e.g. Prasad et al. 2017 on the Singapore Maritime Dataset):
|dy| of the line at the centre column in pixels and |d angle| in degrees; `summarize_errors` gives median,
mean and the share of frames within 2 px.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HorizonLine",
    "fit_horizon",
    "horizon_error",
    "horizon_from_meta",
    "probability_map_error",
    "summarize_errors",
]


@dataclass(frozen=True)
class HorizonLine:
    """A straight horizon in an image of width x height pixels, by its y at the left and right columns."""

    y_left: float
    y_right: float
    width: int
    height: int
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.width, (int, np.integer)) and self.width >= 2):
            raise ValueError(f"HorizonLine width must be an integer >= 2, got {self.width!r}")
        if not (isinstance(self.height, (int, np.integer)) and self.height >= 1):
            raise ValueError(f"HorizonLine height must be an integer >= 1, got {self.height!r}")
        if not (math.isfinite(self.y_left) and math.isfinite(self.y_right)):
            raise ValueError(f"HorizonLine y must be finite, got {self.y_left!r}, {self.y_right!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"HorizonLine confidence must lie in [0, 1], got {self.confidence!r}")

    @property
    def slope(self) -> float:
        """dy/dx in pixels per pixel."""
        return (self.y_right - self.y_left) / (self.width - 1)

    @property
    def angle_deg(self) -> float:
        """Angle in degrees; positive when the line falls to the right (y grows with x, image coordinates)."""
        return math.degrees(math.atan2(self.y_right - self.y_left, self.width - 1))

    @property
    def centre_y(self) -> float:
        """y at the centre column x = (width - 1) / 2."""
        return 0.5 * (self.y_left + self.y_right)

    def y_at(self, x: float | np.ndarray) -> float | np.ndarray:
        """y of the line at column(s) x (pixel-centre coordinates, may lie outside the image)."""
        return self.y_left + self.slope * x

    def scaled(self, width: int, height: int) -> HorizonLine:
        """The same line in an image resized to width x height (x' = (x + 0.5) * W'/W - 0.5, likewise y)."""
        sx, sy = width / self.width, height / self.height

        def to_new(x: float, y: float) -> tuple[float, float]:
            return (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5

        x0, y0 = to_new(0.0, self.y_left)
        x1, y1 = to_new(self.width - 1.0, self.y_right)
        k = (y1 - y0) / (x1 - x0)
        return HorizonLine(
            y_left=y0 + k * (0.0 - x0),
            y_right=y0 + k * (width - 1.0 - x0),
            width=int(width),
            height=int(height),
            confidence=self.confidence,
        )

    def to_row(self) -> dict:
        """Plain dict for a CSV row (floats and ints)."""
        return {
            "y_left": float(self.y_left),
            "y_right": float(self.y_right),
            "angle_deg": self.angle_deg,
            "centre_y": self.centre_y,
            "confidence": float(self.confidence),
            "width": int(self.width),
            "height": int(self.height),
        }


def _missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == "" or v.strip().lower() in ("nan", "none")
    try:
        return not math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def horizon_from_meta(
    y_left: float | str | None, y_right: float | str | None, width: int, height: int
) -> HorizonLine | None:
    """Ground-truth line from meta values (numbers or CSV strings); None, NaN or "" -> None (no horizon)."""
    if _missing(y_left) or _missing(y_right):
        return None
    return HorizonLine(float(y_left), float(y_right), int(width), int(height))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# fitting
# ----------------------------------------------------------------------------------------------------------


def _check_inputs(mask: np.ndarray, prob: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    mask = np.asarray(mask)
    if mask.ndim != 2 or min(mask.shape) < 2:
        raise ValueError(f"mask must be a 2-D (H, W) array with H, W >= 2, got shape {mask.shape}")
    if mask.dtype != bool:
        values = np.unique(mask)
        if not np.isin(values, (0, 1)).all():
            raise ValueError(
                f"mask must hold only 0 and 1 (1 = sea), got values {values[:8].tolist()}"
                " (for a 0/255 mask pass mask > 127, for probabilities pass prob > 0.5)"
            )
    sea = mask.astype(bool)
    if prob is not None:
        prob = np.asarray(prob, dtype=np.float64)
        if prob.shape != mask.shape:
            raise ValueError(f"prob shape {prob.shape} differs from mask shape {mask.shape}")
        if not np.isfinite(prob).all() or prob.min() < -1e-6 or prob.max() > 1 + 1e-6:
            raise ValueError("prob must be a sea probability map with finite values in [0, 1]")
    return sea, prob


def _keep_touching(region: np.ndarray, row: int) -> np.ndarray:
    """Components of `region` (4-connected) touching image row `row`; the largest one if none does."""
    from scipy import ndimage  # imported on first use: start-up of predict

    labels, n = ndimage.label(region)
    if n == 0:
        return region
    keep = np.unique(labels[row])
    keep = keep[keep > 0]
    if keep.size == 0:
        keep = np.array([1 + int(np.argmax(np.bincount(labels.ravel())[1:]))])
    return np.isin(labels, keep)


def _clean(sea: np.ndarray) -> np.ndarray:
    """Holes in the sea (non-sea not connected to the top row: vessels and foam inside the sea, the bow
    or a railing of the camera's own boat in the foreground) filled first, so that a railing across the
    frame does not cut the sea off the bottom row; then the sea connected to the bottom row."""
    sea = ~_keep_touching(~sea, 0)
    return _keep_touching(sea, -1)


def _candidates(sea: np.ndarray, prob: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky -> sea transitions down the columns: x, sub-pixel y, and the row r of the first sea pixel."""
    above, xs = np.nonzero(~sea[:-1] & sea[1:])
    r = above + 1
    ys = r - 0.5
    if prob is not None:
        # interpolate the logit, which is close to linear across a (blurred) step, unlike the probability
        eps = 1e-6
        p = np.clip(np.stack([prob[r - 1, xs], prob[r, xs]]), eps, 1 - eps)
        z0, z1 = np.log(p / (1 - p))
        ok = (z1 - z0 > 1e-9) & (z0 <= 0) & (z1 >= 0)
        ys = np.where(ok, (r - 1) - z0 / np.where(ok, z1 - z0, 1.0), ys)
    return xs.astype(np.float64), ys.astype(np.float64), r


def _lstsq_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares y = a + b x."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (y - ym)).sum()) / sxx if sxx > 0 else 0.0
    return float(ym - b * xm), b


def _ransac(
    xs: np.ndarray,
    ys: np.ndarray,
    band: float,
    max_slope: float,
    above_weight: float,
    n_hyp: int,
    seed: int,
) -> tuple[float, float] | None:
    """Best (a, b) of y = a + b x by MSAC over random candidate pairs; None if no valid pair.

    Outliers cost band**2, or above_weight * band**2 when they lie above the line: sea beginning above the
    horizon is implausible, while objects often hide the sea below it (a vessel's waterline lies below the
    horizon and may span more columns than the visible horizon).
    """
    n = len(xs)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, n_hyp)
    j = rng.integers(0, n, n_hyp)
    dx = xs[j] - xs[i]
    ok = dx != 0
    i, j, dx = i[ok], j[ok], dx[ok]
    b = (ys[j] - ys[i]) / dx
    ok = np.abs(b) <= max_slope
    if not ok.any():
        return None
    i, b = i[ok], b[ok]
    a = ys[i] - b * xs[i]
    cost = np.empty(len(a))
    step = max(1, 2_000_000 // n)  # bounded memory for noisy masks with many candidates
    for s in range(0, len(a), step):
        res = ys[None, :] - (a[s : s + step, None] + b[s : s + step, None] * xs[None, :])
        out_cost = np.where(res < 0, above_weight * band**2, band**2)
        cost[s : s + step] = np.where(np.abs(res) <= band, res**2, out_cost).sum(axis=1)
    k = int(np.argmin(cost))
    return float(a[k]), float(b[k])


def _refit(
    xs: np.ndarray, ys: np.ndarray, a: float, b: float, band: float, iters: int = 10
) -> tuple[float, float, np.ndarray]:
    """Least squares on the inliers within +-band, repeated until the inlier set is stable."""
    inl = np.abs(ys - (a + b * xs)) <= band
    for _ in range(iters):
        if np.unique(xs[inl]).size < 2:
            break
        a, b = _lstsq_line(xs[inl], ys[inl])
        new = np.abs(ys - (a + b * xs)) <= band
        if (new == inl).all():
            break
        inl = new
    return a, b, inl


def _purity(sea: np.ndarray, a: float, b: float, margin: float) -> float:
    """min over both sides of the line (beyond +-margin) of the share of pixels on the right side of it."""
    h, w = sea.shape
    d = np.arange(h, dtype=np.float64)[:, None] - (a + b * np.arange(w, dtype=np.float64))[None, :]
    shares = []
    for side, want in ((d < -margin, False), (d > margin, True)):
        n = int(side.sum())
        if n:
            shares.append(float((sea[side] == want).sum()) / n)
    return min(shares, default=0.0)


def _sharpness(prob: np.ndarray, r: np.ndarray, xs: np.ndarray) -> float:
    """Mean rise of the probability from 2 rows above to 1 row below the boundary, over inlier columns."""
    h = prob.shape[0]
    x = xs.astype(np.intp)
    lo = prob[np.clip(r - 2, 0, h - 1), x]
    hi = prob[np.clip(r + 1, 0, h - 1), x]
    return float(np.clip(hi - lo, 0.0, 1.0).mean()) if len(x) else 0.0


def fit_horizon(
    mask: np.ndarray,
    prob: np.ndarray | None = None,
    *,
    band_px: float = 1.5,
    max_angle_deg: float = 45.0,
    min_columns: int = 5,
    min_inlier_share: float = 0.2,
    min_purity: float = 0.6,
    above_weight: float = 5.0,
    min_support_ratio: float = 1 / 3,
    n_hypotheses: int = 400,
    seed: int = 0,
) -> HorizonLine | None:
    """Robust straight horizon of a sea mask (H, W) in {0, 1}, 1 = sea; None when no horizon is in view.

    Args:
        mask: sea mask, bool or integers 0/1.
        prob: optional sea probability map (H, W) in [0, 1] (e.g. the mask is prob > 0.5): refines the
            boundary to where prob crosses 0.5 and makes the confidence reflect how sharp the step is.
        band_px: vertical inlier band of the robust fit (pixels).
        max_angle_deg: steepest line considered.
        min_columns: fewest inlier columns for a horizon in view.
        min_inlier_share: fewest inlier columns per column where the line lies inside the frame.
        min_purity: least share of correctly classified pixels on either side of the line (cleaned mask).
        above_weight: cost of a boundary candidate above the line relative to one below it (> 1 prefers
            the topmost line: the horizon rather than the waterline of a vessel hiding most of it).
        min_support_ratio: the topmost-preferring line is kept only with at least this share of the inlier
            columns of the best-supported (plain MSAC) line; otherwise that line is tried first.
        n_hypotheses: random candidate pairs tried by the robust fit (deterministic for a given seed).
        seed: seed of the hypothesis sampling.

    Returns:
        HorizonLine with a confidence in [0, 1] (inlier share x purity, x (0.5 + 0.5 sharpness) with
        prob, x its share of the two fits' inlier columns when the other fit is a different line), or
        None.

    Example:
        >>> yy, xx = np.mgrid[0:64, 0:80]
        >>> line = fit_horizon((yy > 20.0 + 0.1 * xx).astype(np.uint8))
        >>> round(line.y_left, 1), round(line.y_right, 1)
        (20.1, 27.9)
    """
    sea, prob = _check_inputs(mask, prob)
    h, w = sea.shape
    clean = _clean(sea)
    if clean.all() or not clean.any():
        return None
    xs, ys, rows = _candidates(clean, prob)
    if np.unique(xs).size < max(2, min_columns):
        return None
    max_slope = math.tan(math.radians(max_angle_deg))
    fits = {}
    for weight in dict.fromkeys((above_weight, 1.0)):
        best = _ransac(xs, ys, band_px, max_slope, weight, n_hypotheses, seed)
        if best is None:
            return None
        a, b, inl = _refit(xs, ys, *best, band_px)
        fits[weight] = (a, b, inl, np.unique(xs[inl]).size)
    # the topmost-preferring line wins unless the best-supported line has over 1/min_support_ratio times its
    # support: then it is more likely a false-sea region above the horizon (e.g. a coast) than a vessel
    top, most = fits[above_weight], fits[1.0]
    order = [top, most] if top[3] >= min_support_ratio * most[3] else [most, top]
    for (a, b, inl, n_cols), other in zip(order, order[::-1], strict=True):
        line_y = a + b * np.arange(w, dtype=np.float64)
        in_frame = int(((line_y >= 0.0) & (line_y < h - 1.0)).sum())
        share = min(1.0, n_cols / max(in_frame, 1))
        purity = _purity(clean, a, b, band_px)
        if n_cols >= min_columns and share >= min_inlier_share and purity >= min_purity:
            confidence = share * purity
            if prob is not None:
                confidence *= 0.5 + 0.5 * _sharpness(prob, rows[inl], xs[inl])
            other_y = other[0] + other[1] * np.array([0.0, w - 1.0])
            if np.abs(other_y - line_y[[0, -1]]).max() > band_px:  # two different lines: ambiguous
                confidence *= n_cols / (n_cols + other[3])
            return HorizonLine(a, a + b * (w - 1), w, h, float(np.clip(confidence, 0.0, 1.0)))
    return None


# ----------------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------------


def horizon_error(pred: HorizonLine | None, true: HorizonLine | None) -> dict:
    """|dy| at the centre column (px) and |d angle| (deg) of pred vs true, with a status.

    status: "ok" (both lines), "missed" (true line, none predicted), "false" (predicted, none true),
    "both_none". dy_px and dangle_deg are NaN unless both exist. A prediction at another resolution is
    first scaled to the true line's image size.
    """
    nan = float("nan")
    if pred is None or true is None:
        status = "both_none" if pred is None and true is None else "missed" if pred is None else "false"
        return {"dy_px": nan, "dangle_deg": nan, "status": status}
    if (pred.width, pred.height) != (true.width, true.height):
        pred = pred.scaled(true.width, true.height)
    return {
        "dy_px": abs(pred.centre_y - true.centre_y),
        "dangle_deg": abs(pred.angle_deg - true.angle_deg),
        "status": "ok",
    }


def summarize_errors(errors: Sequence[dict]) -> dict:
    """Median/mean |dy| and |d angle| and the share within 2 px over the "ok" errors, plus status counts."""
    counts = {s: 0 for s in ("ok", "missed", "false", "both_none")}
    for e in errors:
        if e["status"] not in counts:
            raise ValueError(f"unknown horizon error status {e['status']!r}")
        counts[e["status"]] += 1
    ok = [e for e in errors if e["status"] == "ok"]
    dy = np.array([e["dy_px"] for e in ok], dtype=np.float64)
    da = np.array([e["dangle_deg"] for e in ok], dtype=np.float64)
    nan = float("nan")
    return {
        "dy_median_px": float(np.median(dy)) if len(ok) else nan,
        "dy_mean_px": float(dy.mean()) if len(ok) else nan,
        "dangle_median_deg": float(np.median(da)) if len(ok) else nan,
        "dangle_mean_deg": float(da.mean()) if len(ok) else nan,
        "within_2px": float((dy <= 2.0).mean()) if len(ok) else nan,
        **{f"n_{k}": v for k, v in counts.items()},
    }


def probability_map_error(
    prob: np.ndarray, frame_size: tuple[int, int], truth: tuple[float, float], threshold: float = 0.5
) -> dict:
    """Horizon error of a predicted sea-probability map (any resolution) against the true line.

    The line is fitted on ``prob`` and scaled to the frame's own ``frame_size`` = (height, width), where
    ``truth`` = (y_left, y_right) lives (NaN: no horizon in view). Returns :func:`horizon_error`'s dict.
    """
    height, width = (int(v) for v in frame_size)
    prob = np.clip(prob.astype(np.float32, copy=False), 0.0, 1.0)
    fitted = fit_horizon((prob > threshold).astype(np.uint8), prob)
    y_left, y_right = (float(v) for v in truth)
    true_line = HorizonLine(y_left, y_right, width, height) if math.isfinite(y_left) else None
    return horizon_error(fitted.scaled(width, height) if fitted else None, true_line)
