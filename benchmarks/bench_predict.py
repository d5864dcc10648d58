"""Prediction throughput at 320x256 (frames per second), PyTorch and ONNX Runtime, batch 1 and 16.

Each figure covers the whole path of ``seaSky.predict`` except file I/O: normalisation and resizing,
the network, resizing the probabilities back, thresholding and the horizon fit.

Run: python benchmarks/bench_predict.py [--ckpt PATH] [--frames 64]   (default: the pretrained model)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from seaSky.export import export_onnx
from seaSky.inference import OnnxPredictor, Predictor
from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.render.knobs import load_preset
from seaSky.render.pipeline import render_scene


def fps(predictor: Predictor, frames: list[np.ndarray], batch: int) -> float:
    for _ in range(3):  # warm-up (oneDNN builds its kernels on the first calls)
        predictor.predict(frames[:batch])
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        predictor.predict(frames[i : i + batch])
    return len(frames) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default=None, help="checkpoint (default: the pretrained model)")
    parser.add_argument("--frames", type=int, default=64)
    args = parser.parse_args()
    scene = load_preset("default")
    frames = [render_scene(i, 320, 256, scene).image.astype(np.float32) for i in range(args.frames)]
    ckpt = Path(args.ckpt) if args.ckpt else PRETRAINED_CKPT
    torch_predictor = Predictor.from_checkpoint(ckpt)
    print(f"torch threads {torch.get_num_threads()}; frames 320x256 -> network {torch_predictor.image_size}")
    # each engine is timed alone: an idle ONNX Runtime session in the process slows PyTorch down
    for batch in (1, 16):
        print(f"PyTorch       batch {batch:2d}: {fps(torch_predictor, frames, batch):6.1f} fps")
    with tempfile.TemporaryDirectory() as tmp:
        onnx_predictor = OnnxPredictor(export_onnx(ckpt, Path(tmp) / "model.onnx"))
        for batch in (1, 16):
            print(f"ONNX Runtime  batch {batch:2d}: {fps(onnx_predictor, frames, batch):6.1f} fps")


if __name__ == "__main__":
    main()
