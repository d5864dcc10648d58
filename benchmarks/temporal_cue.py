"""Can motion tell the model's confident false sea from real sea? A label-free cue studied for
``seaSky.adapt`` (issue 11) and not used: this script keeps the evidence reproducible.

Self-training cannot fix an error the model makes the same way in every frame (the synthetic beach
camera's wet sand, the harbour camera's quay front: see ``adaptation_cameras.md``). Water moves and land
does not, so the pixels the model calls sea that stay still over a few frames could be relabelled not-sea.
This measures that cue on the cameras of ``adaptation_cameras.py`` (same scenes, mast and frame rate):
for a frame k, the frames k-2..k+2 at the network's input size, blurred (sigma 1 px) and registered to
frame k (ECC homography: a camera that only rotates), give each pixel's temporal standard deviation,
divided by its median over the pixels the model calls sea (``activity``). Compared over three frames
(20, 100, 180) of each camera:

- true sea: called sea, sea in the truth;
- false sea: called sea, not sea in the truth (the error the cue should catch);
- far sea: the 6 rows of true sea under the horizon in each column, called sea (what the cue must spare).

``flipped at t`` is the share of each class with an activity below ``t``, the median activity of the
false sea (a rule that relabels half of the false sea). It also counts how many consecutive frames of
``--real`` (default: the shared real sequence) are repeats of the one before (mean |difference| below
0.5 grey levels), where no motion can be measured at all.

    python benchmarks/temporal_cue.py [--ckpt PATH] [--real DIR] [--table PATH]

Writes ``benchmarks/temporal_cue.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import cv2
import numpy as np
from adaptation_cameras import FPS, KINDS, MAST, N_FRAMES, SEEDS, scene_of
from adaptation_proxy import shown

from seaSky.frames import list_inputs, read_batches
from seaSky.inference import load_predictor
from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.render.sequence import plan_sequence, render_frame

CENTRES, HALF_WINDOW, FAR_ROWS = (20, 100, 180), 2, 6
REPEAT_GREY = 0.5  # mean |difference| (8-bit grey levels) below which a frame repeats the one before
TABLE = Path(__file__).with_name("temporal_cue.md")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "real-ir-unlabeled"


def registered(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``image`` warped onto ``reference`` by the ECC homography (identity when ECC does not converge)."""
    warp = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    with contextlib.suppress(cv2.error):  # no convergence: the identity
        _, warp = cv2.findTransformECC(reference, image, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 1)
    flags = cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
    size = (image.shape[1], image.shape[0])
    return cv2.warpPerspective(image, warp, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)


def activity(window: list[np.ndarray], centre: int) -> np.ndarray:
    """Per-pixel temporal standard deviation of the window, blurred and registered to its centre frame."""
    blurred = [cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.0) for x in window]
    reference = blurred[centre]
    stack = [x if i == centre else registered(reference, x) for i, x in enumerate(blurred)]
    return np.stack(stack).std(axis=0)


def far_sea(truth: np.ndarray, rows: int) -> np.ndarray:
    """The first ``rows`` sea pixels of each column, from the top."""
    first = np.where(truth.any(axis=0), truth.argmax(axis=0), truth.shape[0])
    row = np.arange(truth.shape[0])[:, None]
    return truth & (row >= first[None]) & (row < first[None] + rows)


def camera_classes(predictor, kind: str) -> dict[str, np.ndarray]:
    """Relative activity of the true, false and far sea over the centre frames of one camera."""
    width, height = KINDS[kind][1]
    plan = plan_sequence(SEEDS[kind], N_FRAMES, width, height, scene_of(kind), MAST, FPS)
    size = (predictor.image_size[1], predictor.image_size[0])
    classes: dict[str, list[np.ndarray]] = {"true sea": [], "false sea": [], "far sea": []}
    for k in CENTRES:
        scenes = [render_frame(plan, i) for i in range(k - HALF_WINDOW, k + HALF_WINDOW + 1)]
        frames = [s.display() for s in scenes]
        centre = scenes[HALF_WINDOW]
        called = cv2.resize(predictor.predict([frames[HALF_WINDOW]])[0].mask, size,
                            interpolation=cv2.INTER_NEAREST).astype(bool)  # fmt: skip
        truth = cv2.resize(centre.mask, size, interpolation=cv2.INTER_NEAREST).astype(bool)
        if not called.any():  # nothing called sea: nothing to compare
            continue
        act = activity([predictor.preprocess(f) for f in frames], HALF_WINDOW)
        act = act / max(float(np.median(act[called])), 1e-12)
        classes["true sea"].append(act[called & truth])
        classes["false sea"].append(act[called & ~truth])
        classes["far sea"].append(act[called & far_sea(truth, FAR_ROWS)])
    return {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in classes.items()}


def repeats(folder: Path) -> tuple[int, int]:
    """(frames that repeat the one before, frame pairs) over a folder's frames in name order."""
    previous, n_repeat, n_pairs = None, 0, 0
    for batch in read_batches(list_inputs(folder), 16):
        for _, image in batch:
            grey = image.astype(np.float32) * (255.0 / 65535.0 if image.dtype == np.uint16 else 1.0)
            if previous is not None and previous.shape == grey.shape:
                n_pairs += 1
                n_repeat += float(np.abs(grey - previous).mean()) < REPEAT_GREY
            previous = grey
    return n_repeat, n_pairs


def cell(values: np.ndarray) -> str:
    if values.size == 0:
        return "-"
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return f"{p50:.2f} ({p10:.2f}-{p90:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, default=PRETRAINED_CKPT)
    parser.add_argument("--real", type=Path, default=SHARED, help="a real sequence to count repeats in")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    start = time.perf_counter()
    predictor = load_predictor(args.ckpt)
    lines = [
        "Temporal activity (median, p10-p90) of what the model calls sea, relative to the median over",
        "everything it calls sea; `flipped` is the share below the false sea's median activity.",
        f"Model: {shown(args.ckpt)}. `python benchmarks/temporal_cue.py`, {{wall}} s on this machine.",
        "",
        "| camera | true sea | false sea | far sea (6 rows below the line) | flipped: false/true/far sea |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        classes = camera_classes(predictor, kind)
        false = classes["false sea"]
        if false.size == 0:
            flipped = "no false sea"
        else:
            t = float(np.median(false))
            flipped = " / ".join(
                f"{(classes[c] < t).mean():.0%}" for c in ("false sea", "true sea", "far sea")
            )
        lines.append(f"| {kind} | {cell(classes['true sea'])} | {cell(false)} | {cell(classes['far sea'])} "
                     f"| {flipped} |")  # fmt: skip
    if args.real.is_dir():
        n_repeat, n_pairs = repeats(args.real)
        lines += ["", f"Real sequence `{args.real.name}`: {n_repeat} of {n_pairs} frames repeat the one "
                  f"before (mean |difference| < {REPEAT_GREY} grey levels)."]  # fmt: skip
    wall = round(time.perf_counter() - start)
    text = "\n".join(lines).replace("{wall}", str(wall)) + "\n"
    args.table.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
