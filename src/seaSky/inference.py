"""Use a trained model on raw IR frames of any size: preprocessing from the checkpoint, batched
prediction, masks and probabilities back at the frame's own size, and the horizon line.

Threads: PyTorch's OpenMP threads wait for each other at the end of every operation. By default they wait
spinning, which on a computer where another program holds one of the cores leaves the network's other
thread burning its core while the first one waits for a time slice: predict fell to a quarter of its speed.
Importing this module first (as ``seaSky.predict`` does) sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set
already, so that waiting threads sleep (read once, when PyTorch loads OpenMP: a program that imported torch
before has its own policy). ``threads`` of :func:`load_predictor` sets how many threads the network uses.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see above)

import cv2
import numpy as np
import torch

from seaSky.config import fast_precision
from seaSky.data.preprocess import preprocess_image
from seaSky.errors import CheckpointError, ConfigError, one_line
from seaSky.horizon import HorizonLine, fit_horizon
from seaSky.model.checkpoint import TrainedNet, load_network
from seaSky.pretrained import PRETRAINED_CKPT, resolve_checkpoint

if TYPE_CHECKING:
    from seaSky.model.module import SeaSkyModule

log = logging.getLogger(__name__)
PRECISIONS = ("auto", "32", "bf16")


@dataclass(frozen=True)
class Prediction:
    """One frame's result at the frame's own size."""

    mask: np.ndarray  # (H, W) uint8, 1 = sea
    prob: np.ndarray  # (H, W) float32 sea probability
    horizon: HorizonLine | None  # None: no horizon in view


class Predictor:
    """A trained SeaSkyModule with the preprocessing it was trained with.

    Args:
        module: the trained network: a SeaSkyModule, or the lighter TrainedNet that
            :meth:`from_checkpoint` loads (eval mode is set here).
        image_size: (height, width) the network expects.
        normalize: keyword arguments of :func:`seaSky.data.preprocess.normalize_image`.
        device: torch device for the network.
        precision: ``32`` (float32), ``bf16`` (bfloat16 autocast) or ``auto``: bf16 where the device
            computes it natively (CUDA Ampere+, CPUs with AVX512-BF16 or AMX; the pretrained network 1.6x
            faster at batch 1 and 2.2x at batch 16 than float32 on such a CPU, benchmarks/results.md),
            float32 elsewhere. On the shared real frames bf16 moves probabilities by 0.017 at most and the
            horizon by 0.035 px (same file).
    """

    def __init__(
        self,
        module: SeaSkyModule | TrainedNet,
        image_size: Sequence[int],
        normalize: dict | None = None,
        device: str | torch.device = "cpu",
        precision: str = "32",
    ) -> None:
        self.module = module.eval().to(device)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.normalize = dict(normalize or {})
        self.device = torch.device(device)
        self.threshold = float(module.threshold)
        self.precision = resolve_precision(precision, self.device)

    @classmethod
    def from_checkpoint(
        cls, ckpt_path: str | Path | None = None, device: str = "cpu", precision: str = "32"
    ) -> Predictor:
        """Load a checkpoint written by ``seaSky.train`` (None or ``pretrained``: the model shipped in the
        package)."""
        path = resolve_checkpoint(ckpt_path)
        if not path.is_file() and path == PRETRAINED_CKPT:
            raise CheckpointError(
                f"{path}: checkpoint not found (no pretrained model is shipped: pass ckpt_path=...)"
            )
        module, ckpt = load_network(path)  # the network alone: no Lightning to import
        data = ckpt.get("datamodule_hyper_parameters", {})
        return cls(module, data.get("image_size", (128, 160)), data.get("normalize"), device, precision)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """Raw frame (any size and bit depth) -> normalised float32 (H, W) at the network's size, by the
        rule of training (:func:`seaSky.data.preprocess.preprocess_image`)."""
        return preprocess_image(image, self.image_size, self.normalize)

    @torch.no_grad()
    def network_probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Sea probabilities (N, H, W) for preprocessed frames (N, 1, H, W) at the network's size."""
        inputs = torch.from_numpy(batch).to(self.device)  # the module itself goes channels-last if trained so
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.precision == "bf16"):
            logits = self.module(inputs)
        return torch.sigmoid(logits.float()).cpu().numpy()[:, 0]

    def probabilities(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Sea probability maps, each at its frame's own size (one network call for all)."""
        return [full for full, _ in self._probabilities(images)]

    def _probabilities(self, images: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(probability at the frame's size, probability at the network's size) per frame."""
        inputs = np.stack([self.preprocess(im) for im in images])
        return self._probabilities_of_inputs(inputs, [im.shape[:2] for im in images])

    def _probabilities_of_inputs(
        self, inputs: np.ndarray, sizes: Sequence[tuple[int, int]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        probs = self.network_probabilities(inputs[:, None])
        return [
            (cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR), p)
            for p, (height, width) in zip(probs, sizes, strict=True)
        ]

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Masks, probabilities and horizon lines for a batch of raw frames.

        The horizon is fitted at the network's resolution (where its inlier band and the validation and
        evaluation errors are defined) and scaled to the frame: an upsampled mask would only add the
        interpolation's staircase to the boundary.
        """
        inputs = np.stack([self.preprocess(im) for im in images])
        return self.predict_inputs(inputs, [im.shape[:2] for im in images])

    def predict_inputs(self, inputs: np.ndarray, sizes: Sequence[tuple[int, int]]) -> list[Prediction]:
        """:meth:`predict` for frames already preprocessed (N, H, W) at the network's size, whose own
        (height, width) are ``sizes``: for callers that keep the normalised frame (video overlays)."""
        results = []
        for full, small in self._probabilities_of_inputs(inputs, sizes):
            small = np.clip(small, 0.0, 1.0)
            line = fit_horizon((small > self.threshold).astype(np.uint8), small)
            height, width = full.shape
            line = line.scaled(width, height) if line else None
            results.append(Prediction((full > self.threshold).astype(np.uint8), full, line))
        return results


class OnnxPredictor(Predictor):
    """The same prediction with the network run by ONNX Runtime, from a ``seaSky.export`` file alone
    (its metadata holds the input size, normalisation and threshold)."""

    def __init__(self, onnx_path: str | Path, threads: int | None = None) -> None:
        import json

        import onnxruntime as ort

        onnx_path = Path(onnx_path)
        if not onnx_path.is_file():
            raise CheckpointError(f"{onnx_path}: ONNX model not found")
        options = ort.SessionOptions()
        # no busy-waiting between runs: spinning threads would steal the cores from everything else
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # protobuf parse errors and the like: one line naming the file
            raise CheckpointError(f"{onnx_path}: not a readable ONNX model ({one_line(err)})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "image_size" not in meta:
            raise CheckpointError(f"{onnx_path}: no image_size in its metadata; export it with seaSky.export")
        try:
            size = json.loads(meta["image_size"])
            self.normalize = json.loads(meta.get("normalize", "{}"))
            self.threshold = float(meta.get("threshold", 0.5))
            ok = isinstance(self.normalize, dict) and len(size) == 2 and all(int(v) > 0 for v in size)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise CheckpointError(
                f"{onnx_path}: bad seaSky metadata (image_size {meta.get('image_size')!r}, normalize "
                f"{meta.get('normalize')!r}, threshold {meta.get('threshold')!r}); re-export it"
            )
        self.image_size = (int(size[0]), int(size[1]))
        self.precision = "int8" if "int8" in meta.get("quantization", "") else "32"  # seaSky.export's note

    def network_probabilities(self, batch: np.ndarray) -> np.ndarray:
        logits = self.session.run(["logits"], {"image": batch.astype(np.float32)})[0]
        return (1.0 / (1.0 + np.exp(-logits[:, 0]))).astype(np.float32)


def resolve_precision(precision: str | int, device: torch.device) -> str:
    """``32`` or ``bf16`` for a predictor's ``precision`` setting (``auto``: bf16 where native)."""
    precision = str(precision)
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if fast_precision(device.type).startswith("bf16") else "32"
    return precision


def check_device(device: object) -> str:
    """``device`` (``cpu``, ``cuda`` or ``cuda:N``) checked against this machine, before any work.

    Raises:
        ConfigError: one line naming the device: not one of those, or no such CUDA GPU here.
    """
    text = str(device).strip().lower()
    if text == "cpu":
        return text
    if not re.fullmatch(r"cuda(:[0-9]+)?", text):
        raise ConfigError(f"device={device}: not a device; use device=cpu or device=cuda (cuda:N for GPU N)")
    if not torch.cuda.is_available():
        raise ConfigError(f"device={device}: no CUDA GPU is available here; use device=cpu")
    index = int(text.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"device={device}: no such CUDA GPU ({count} here: cuda:0 to cuda:{count - 1})")
    return text


def check_threads(threads: object) -> int | None:
    """``threads`` as a positive int, or None (every core); ConfigError otherwise."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads={threads}: give a whole number of threads, at least 1 (null: every core)")
    return threads


def load_predictor(
    path: str | Path | None = None, device: str = "cpu", precision: str = "32", threads: int | None = None
) -> Predictor:
    """A predictor for a ``seaSky.train`` checkpoint, a ``seaSky.export`` .onnx file (run by ONNX Runtime on
    the CPU, float32 or int8), or None: the pretrained model in the package. A ``device`` that this machine
    lacks is a ConfigError before anything loads (:func:`check_device`). ``threads``: the network's CPU
    threads (PyTorch's intra-op threads for the process, or the ONNX Runtime session's); None: every core."""
    device = check_device(device)
    threads = check_threads(threads)
    if path is not None and Path(path).suffix.lower() == ".onnx":
        if device != "cpu":
            log.warning("an .onnx model runs on the CPU with ONNX Runtime here (device=%s ignored)", device)
        return OnnxPredictor(path, threads=threads)
    if threads:
        torch.set_num_threads(threads)
    return Predictor.from_checkpoint(path, device=device, precision=precision)
