"""Label the shared sequence (``../shared/real-ir-unlabeled/``, 175 frames of one camera) from the image
evidence: the sea's upper boundary, the waterline at the foot of the coast (sea below it = 1).

Per frame (no model involved):

1. Strips: the frame is averaged over STRIP-column strips and lightly smoothed down the rows (Gaussian,
   sigma SMOOTH px; symmetric, so it does not move an edge). The signed step ``I[y] - I[y + 1]`` of each
   strip (bright coast above, dark sea below: positive) lies at y + 0.5, the mask convention's boundary
   between the last land row y and the first sea row y + 1 (:mod:`seaSky.horizon`).
2. First guess: the straight line (centre row and slope, a grid of 0.5 px by SLOPE_STEP) that maximises the
   mean step along it over all strips, searched in rows SEARCH.
3. Refinement: in each strip the largest step within BAND px of the first guess, at sub-pixel precision
   (a parabola through the peak and its neighbours); strips whose peak is weaker than WEAK times the
   median peak are dropped.
4. A robust straight line: MSAC over pairs of strips (an inlier lies within INLIER px), then least squares
   on the inliers until they are stable. Its RMS residual and the number of strips kept are reported.

    python benchmarks/label_shared_sequence.py [--sequence DIR] [--csv PATH] [--overlays DIR]
        [--every 10] [--zoom 4]

Writes ``benchmarks/shared_sequence_lines.csv`` (``file,x1,y1,x2,y2``, file as ``images/<name>``, x1 = 0,
x2 = width - 1, y at pixel centres: the ``lines-csv`` format of ``python -m seaSky.data.convert``, read
relative to a folder holding the frames in ``images/``) and, with ``--overlays``, enlarged crops of every
``--every``-th frame and of every frame whose fit is doubtful (RMS residual above FLAG_RMS px, fewer than
FLAG_KEPT of the strips kept, or a jump above FLAG_JUMP px from both neighbours) with the line drawn, to
check by eye. The frames are only read: nothing of them is written into the repository.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

SEQUENCE = Path(__file__).resolve().parents[1].parent / "shared" / "real-ir-unlabeled"
CSV = Path(__file__).with_name("shared_sequence_lines.csv")
STRIP = 16  # columns per strip
SMOOTH = 1.0  # Gaussian sigma down the rows, px
SEARCH = (120, 360)  # rows searched for the first guess
SLOPE_STEP, MAX_SLOPE = 0.001, 0.06  # slope grid of the first guess (dy/dx)
BAND = 5  # px either side of the first guess searched per strip
WEAK = 0.3  # a strip's peak below this share of the median peak is dropped
FLAG_RMS, FLAG_KEPT, FLAG_JUMP = 0.8, 0.7, 2.0
INLIER = 1.5  # px: a strip within this of the line is an inlier
CROP = (30, 120)  # rows, columns of each overlay crop


def strip_steps(image: np.ndarray) -> np.ndarray:
    """Per strip, the step ``I[y] - I[y + 1]`` of the strip's mean profile (strips x rows - 1)."""
    height, width = image.shape
    n = width // STRIP
    strips = image[:, : n * STRIP].astype(np.float64).reshape(height, n, STRIP).mean(axis=2).T
    strips = ndimage.gaussian_filter1d(strips, SMOOTH, axis=1)
    return strips[:, :-1] - strips[:, 1:]


def first_guess(steps: np.ndarray, xs: np.ndarray, centre: float) -> tuple[float, float]:
    """(y at ``centre``, slope) of the straight line with the largest mean step along it."""
    best = (-np.inf, 0.0, 0.0)
    rows = np.arange(steps.shape[1])
    for slope in np.arange(-MAX_SLOPE, MAX_SLOPE + SLOPE_STEP / 2, SLOPE_STEP):
        ys = np.arange(SEARCH[0], SEARCH[1], 0.5)
        # step at y + 0.5 is steps[:, y]; sample each strip at the line's row (linear interpolation)
        at = ys[None, :] + slope * (xs - centre)[:, None] - 0.5
        score = np.mean([np.interp(at[i], rows, steps[i]) for i in range(len(xs))], axis=0)
        k = int(np.argmax(score))
        if score[k] > best[0]:
            best = (float(score[k]), float(ys[k]), float(slope))
    return best[1], best[2]


def refine(steps: np.ndarray, xs: np.ndarray, centre: float, guess: tuple[float, float]) -> tuple:
    """Per strip the sub-pixel peak of the step near the guess: (xs, ys, strengths) of the strips kept."""
    y0, slope = guess
    found = []
    for i, x in enumerate(xs):
        expect = y0 + slope * (x - centre) - 0.5  # index into steps
        lo, hi = max(int(np.floor(expect)) - BAND, 1), min(int(np.ceil(expect)) + BAND, steps.shape[1] - 2)
        k = lo + int(np.argmax(steps[i, lo : hi + 1]))
        a, b, c = steps[i, k - 1], steps[i, k], steps[i, k + 1]
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
        found.append((x, k + 0.5 + float(np.clip(offset, -0.5, 0.5)), b))
    x, y, s = (np.array(v) for v in zip(*found, strict=True))
    keep = s >= WEAK * np.median(s)
    return x[keep], y[keep], s[keep]


def robust_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(a, b) of y = a + b x: MSAC over all pairs of strips (squared residuals truncated at INLIER px), then
    least squares on the inliers until they are stable; and the mask of inlier strips. A short stretch of
    the boundary off the line (a low object at the coast's foot) is left out instead of tilting the line."""
    best, keep = np.inf, np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            b = (y[j] - y[i]) / (x[j] - x[i])
            cost = np.minimum((y - (y[i] + b * (x - x[i]))) ** 2, INLIER**2).sum()
            if cost < best:
                best, keep = cost, np.abs(y - (y[i] + b * (x - x[i]))) <= INLIER
    for _ in range(10):
        b, a = np.polyfit(x[keep], y[keep], 1)
        new = np.abs(y - (a + b * x)) <= INLIER
        if (new == keep).all():
            break
        keep = new
    return float(a), float(b), keep


def label(image: np.ndarray) -> dict:
    """The waterline of one frame: y at x = 0 and x = width - 1, fit quality, strip points."""
    height, width = image.shape
    steps = strip_steps(image)
    xs = np.arange(steps.shape[0]) * STRIP + (STRIP - 1) / 2
    centre = (width - 1) / 2
    guess = first_guess(steps, xs, centre)
    x, y, _ = refine(steps, xs, centre, guess)
    a, b, keep = robust_line(x, y)
    resid = y[keep] - (a + b * x[keep])
    return {
        "y_left": a, "y_right": a + b * (width - 1), "width": width, "height": height,
        "rms": float(np.sqrt(np.mean(resid**2))), "kept": float(keep.sum() / len(xs)),
        "points": (x, y, keep),
    }  # fmt: skip


def overlay(image: np.ndarray, result: dict, path: Path, zoom: int) -> None:
    """Enlarged crops around the line (left, middle, right; contrast stretched), stacked, with the line (red),
    the strips' steps (green: kept, magenta: dropped) and, at the crop's left edge, ticks every 5 rows."""
    width = result["width"]
    slope = (result["y_right"] - result["y_left"]) / (width - 1)
    pieces = []
    for x0 in (0, width // 2 - CROP[1] // 2, width - CROP[1]):
        yc = result["y_left"] + slope * (x0 + CROP[1] / 2)
        y0 = int(np.clip(round(yc) - CROP[0] // 2, 0, image.shape[0] - CROP[0]))
        crop = image[y0 : y0 + CROP[0], x0 : x0 + CROP[1]].astype(np.float64)
        crop = np.clip((crop - crop.min()) / max(np.ptp(crop), 1) * 255, 0, 255).astype(np.uint8)
        crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)

        def to_px(x: float, y: float, x0: int = x0, y0: int = y0) -> tuple[int, int]:
            # pixel centre (x, y) -> the enlarged crop's coordinates (a pixel spans zoom px)
            return round((x - x0 + 0.5) * zoom), round((y - y0 + 0.5) * zoom)

        p1 = to_px(x0 - 0.5, result["y_left"] + slope * (x0 - 0.5))
        p2 = to_px(x0 + CROP[1] - 0.5, result["y_left"] + slope * (x0 + CROP[1] - 0.5))
        cv2.line(crop, p1, p2, (0, 0, 255), 1)
        xs, ys, keep = result["points"]
        for x, y, k in zip(xs, ys, keep, strict=True):
            if x0 <= x < x0 + CROP[1]:
                cv2.circle(crop, to_px(x, y), 4, (0, 255, 0) if k else (255, 0, 255), 1)
        for r in range(y0 + (-y0) % 5, y0 + CROP[0], 5):
            cv2.line(crop, (0, (r - y0) * zoom), (zoom * 2, (r - y0) * zoom), (255, 200, 0), 1)
        pieces.append(crop)
    sep = np.full((6, pieces[0].shape[1], 3), 255, np.uint8)
    cv2.imwrite(str(path), np.vstack([pieces[0], sep, pieces[1], sep, pieces[2]]))


def low_stretch(result: dict, strips: int = 3, px: float = 2.0) -> tuple[float, float] | None:
    """The x range of the longest run of at least ``strips`` strips whose step lies more than ``px`` below
    the line (something at the coast's foot reaching lower than the waterline), or None."""
    x, y, _ = result["points"]
    slope = (result["y_right"] - result["y_left"]) / (result["width"] - 1)
    low = y - (result["y_left"] + slope * x) > px
    best, start = None, None
    for i, flag in enumerate([*low, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= strips and (best is None or i - start > best[1] - best[0]):
                best = (start, i)
            start = None
    return None if best is None else (max(x[best[0]] - STRIP / 2, 0.0), x[best[1] - 1] + STRIP / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequence", type=Path, default=SEQUENCE)
    parser.add_argument("--csv", type=Path, default=CSV)
    parser.add_argument("--overlays", type=Path, help="write enlarged crops with the line here")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--zoom", type=int, default=6)
    args = parser.parse_args()
    frames = sorted(args.sequence.glob("*.png"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    if not frames:
        raise SystemExit(f"{args.sequence}: no PNG frames")
    results = []
    for path in frames:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise SystemExit(f"{path}: not readable as an image")
        results.append(label(image))
    centre_y = np.array([0.5 * (r["y_left"] + r["y_right"]) for r in results])
    flagged = set()
    for i, r in enumerate(results):
        jumps = [abs(centre_y[i] - centre_y[j]) for j in (i - 1, i + 1) if 0 <= j < len(results)]
        if r["rms"] > FLAG_RMS or r["kept"] < FLAG_KEPT or min(jumps) > FLAG_JUMP:
            flagged.add(i)
    with open(args.csv, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["file", "x1", "y1", "x2", "y2"])
        for path, r in zip(frames, results, strict=True):
            y1, y2 = f"{r['y_left']:.2f}", f"{r['y_right']:.2f}"
            writer.writerow([f"images/{path.name}", 0, y1, r["width"] - 1, y2])
    rms = np.array([r["rms"] for r in results])
    kept = np.array([r["kept"] for r in results])
    print(f"{len(frames)} frames -> {args.csv}")
    jumps = np.abs(np.diff(centre_y))
    wobble = np.abs(centre_y[1:-1] - 0.5 * (centre_y[:-2] + centre_y[2:]))  # off the neighbours' mean
    print(
        f"RMS residual px: median {np.median(rms):.2f}, max {rms.max():.2f}; strips kept: median "
        f"{np.median(kept):.2f}, min {kept.min():.2f}; centre-row jumps: max {jumps.max():.2f}; centre row "
        f"off its neighbours' mean: median {np.median(wobble):.2f}, 90th percentile "
        f"{np.percentile(wobble, 90):.2f}, max {wobble.max():.2f}"
    )
    print("flagged: " + (", ".join(frames[i].stem for i in sorted(flagged)) or "none"))
    below = [(frames[i].stem, run) for i, r in enumerate(results) if (run := low_stretch(r))]
    print(
        f"{len(below)} frames with a stretch of >= 3 strips more than 2 px below the line (something at the "
        f"coast's foot reaching lower; x from {min(a for _, (a, _) in below):.0f} to "
        f"{max(b for _, (_, b) in below):.0f}, at most {max(b - a for _, (a, b) in below):.0f} px wide)"
        if below
        else "no stretch of >= 3 strips more than 2 px below the line"
    )
    if args.overlays:
        args.overlays.mkdir(parents=True, exist_ok=True)
        for i in sorted(set(range(0, len(frames), args.every)) | flagged):
            image = cv2.imread(str(frames[i]), cv2.IMREAD_GRAYSCALE)
            overlay(image, results[i], args.overlays / f"{frames[i].stem}.png", args.zoom)


if __name__ == "__main__":
    main()
