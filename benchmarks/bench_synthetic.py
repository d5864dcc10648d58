"""Speed of the synthetic IR renderer: render-only (1 process) and write_dataset end-to-end (all cores).

Run: python benchmarks/bench_synthetic.py [--n 400] [--width 320] [--height 256] [--preset default]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from seaSky.render.dataset import PNG_FAST, scene_seed, write_dataset
from seaSky.render.knobs import load_preset
from seaSky.render.pipeline import render_scene


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    cfg = load_preset(args.preset)
    render_scene(0, args.width, args.height, cfg)  # warm-up (imports, lookup tables)

    render_s = png_s = 0.0
    for i in range(args.n):
        t0 = time.perf_counter()
        scene = render_scene(scene_seed(0, i), args.width, args.height, cfg)
        t1 = time.perf_counter()
        for arr in (scene.image, scene.mask * np.uint8(255)):  # as write_dataset encodes them
            cv2.imencode(".png", arr, PNG_FAST)
        png_s += time.perf_counter() - t1
        render_s += t1 - t0
    print(
        f"render only, 1 process : {args.n / render_s:7.1f} scenes/s "
        f"({1000 * render_s / args.n:.1f} ms/scene; PNG encoding of image and mask "
        f"{1000 * png_s / args.n:.1f} ms/scene more)"
    )

    tmp = Path(tempfile.mkdtemp(prefix="bench_syn_"))
    try:
        t0 = time.perf_counter()
        write_dataset(
            tmp / "set",
            args.n,
            seed=0,
            scene=cfg,
            width=args.width,
            height=args.height,
            workers=args.workers,
            progress=False,
        )
        total_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    workers = args.workers or os.cpu_count()
    print(
        f"write_dataset, {workers} workers: {args.n / total_s:7.1f} scenes/s "
        "(render + 16-bit PNG + mask + meta)"
    )


if __name__ == "__main__":
    main()
