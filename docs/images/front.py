"""Draw docs/images/front.png, the README's picture: one synthetic camera frame, the shipped model's sea
mask and the frame with that mask tinted and the fitted horizon in red.

A synthetic frame (default preset, the camera's 8-bit frame), because the real frames the project
evaluates on may not be copied into the repository. Run from the repository root:

    .venv/bin/python docs/images/front.py --seed 41 --out docs/images/front.png
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from seaSky.inference import Predictor
from seaSky.render.pipeline import render_scene
from seaSky.viz import overlay_frame


def front_picture(seed: int, width: int = 640, height: int = 512) -> np.ndarray:
    """frame | predicted mask (white = sea) | overlay with the horizon, side by side (BGR, uint8)."""
    frame = render_scene(seed, width, height).display()
    result = Predictor.from_checkpoint().predict([frame])[0]
    line = (result.horizon.y_left, result.horizon.y_right) if result.horizon else None
    grey = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    mask = cv2.cvtColor((result.mask * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    gap = np.full((height, 8, 3), 255, np.uint8)
    return np.hstack([grey, gap, mask, gap, overlay_frame(frame, result.mask, line)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--out", default="docs/images/front.png")
    args = parser.parse_args()
    picture = front_picture(args.seed)
    half = cv2.resize(picture, (picture.shape[1] // 2, picture.shape[0] // 2), interpolation=cv2.INTER_AREA)
    cv2.imwrite(args.out, half)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
