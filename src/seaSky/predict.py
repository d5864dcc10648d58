"""Predict sea masks, overlays and horizon lines for IR frames:
``python -m seaSky.predict [ckpt_path=PATH] input=DIR_OR_IMAGE output_dir=OUT``.

PATH is a checkpoint of ``seaSky.train`` or an .onnx file of ``seaSky.export`` (then ONNX Runtime runs the
network); without it, the pretrained model shipped in the package.

Reads 8- and 16-bit PNG/TIFF/JPG frames of any size; an unreadable file is skipped with a warning
naming it, and the others are still written. Every output file is written atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from seaSky.data.preprocess import normalize_image
from seaSky.errors import exit_on_error
from seaSky.frames import list_inputs, read_batches
from seaSky.inference import Prediction, Predictor, load_predictor
from seaSky.io import atomic_write, write_csv
from seaSky.paths import CONFIG_DIR
from seaSky.viz import overlay_frame

log = logging.getLogger(__name__)
HORIZON_COLUMNS = ("stem", "y_left", "y_right", "angle_deg", "confidence")


def _write_png(path: Path, picture: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", picture)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


def horizon_row(stem: str, result: Prediction) -> dict:
    """One horizon.csv row; y and angle empty when no horizon is in view."""
    line = result.horizon
    if line is None:
        return {"stem": stem, "y_left": "", "y_right": "", "angle_deg": "", "confidence": ""}
    return {
        "stem": stem,
        "y_left": f"{line.y_left:.2f}",
        "y_right": f"{line.y_right:.2f}",
        "angle_deg": f"{line.angle_deg:.3f}",
        "confidence": f"{line.confidence:.3f}",
    }


def predict_folder(
    predictor: Predictor, input_path: str | Path, output_dir: str | Path, batch_size: int = 16
) -> list[dict]:
    """Predict every frame of ``input_path`` into ``output_dir``; return the horizon rows written."""
    paths = list_inputs(input_path)
    out = Path(output_dir)
    rows: list[dict] = []
    with tqdm(total=len(paths), desc="predict", unit="img") as bar:
        for batch in read_batches(paths, batch_size):
            results = predictor.predict([image for _, image in batch])
            for (path, image), result in zip(batch, results, strict=True):
                _write_png(out / "masks" / f"{path.stem}.png", result.mask * 255)
                line = (result.horizon.y_left, result.horizon.y_right) if result.horizon else None
                _write_png(
                    out / "overlays" / f"{path.stem}.png",
                    overlay_frame(normalize_image(image), result.mask, line),
                )
                rows.append(horizon_row(path.stem, result))
            bar.update(len(batch))
        bar.update(len(paths) - bar.n)  # skipped files
    write_csv(out / "horizon.csv", rows, HORIZON_COLUMNS)
    return rows


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="predict")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        predictor = load_predictor(cfg.ckpt_path, device=cfg.device)
        paths = list_inputs(cfg.input)
        rows = predict_folder(predictor, cfg.input, cfg.output_dir, cfg.batch_size)
    skipped = len(paths) - len(rows)
    log.info("%d frames -> %s (%d skipped)", len(rows), cfg.output_dir, skipped)


if __name__ == "__main__":
    main()
