"""Predict sea masks, overlays and horizon lines for IR frames, videos and live cameras:
``python -m seaSky.predict [ckpt_path=PATH] input=DIR_OR_IMAGE_OR_VIDEO output_dir=OUT``.

A video file, a camera (``input=0``), a stream URL, or a folder with ``sequence=true`` is a sequence:
:mod:`seaSky.sequence` tracks the horizon over its frames and writes ``horizon.csv`` (a row per frame) and
``overlay.mp4``. Still frames (a file or a folder) get ``masks/``, ``overlays/`` and ``horizon.csv``.

PATH is a checkpoint of ``seaSky.train`` or an .onnx file of ``seaSky.export`` (then ONNX Runtime runs the
network); without it, the pretrained model shipped in the package.

Reads 8- and 16-bit PNG/TIFF/JPG frames of any size; an unreadable file or a frame smaller than
``seaSky.frames.MIN_FRAME_SIZE`` is skipped with a warning naming it, and the others are still written.
An OUT that holds an earlier run's outputs (:data:`OUTPUTS`) is refused unless ``overwrite=true``, which
deletes those (and nothing else in OUT) once the new run can start. Only what OUT's manifest
(:func:`seaSky.io.record_outputs`) says seaSky wrote is ever replaced: a user's own ``masks/`` (or any other
name of :data:`OUTPUTS`) is refused, with or without ``overwrite=true``. Every output file is written
atomically.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import cv2
import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from seaSky.cli import run_cli, typed_text
from seaSky.data.preprocess import normalize_image
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.frames import MIN_FRAME_SIZE, list_inputs, read_batches
from seaSky.inference import Prediction, Predictor, check_device, load_predictor
from seaSky.io import atomic_write, earlier_outputs, record_outputs, remove_outputs, write_csv
from seaSky.paths import CONFIG_DIR
from seaSky.sequence import (
    check_fps,
    is_sequence_input,
    is_stream,
    mask_format,
    open_sequence,
    predict_sequence,
)
from seaSky.tracker import TrackerConfig
from seaSky.viz import overlay_frame

log = logging.getLogger(__name__)
HORIZON_COLUMNS = ("stem", "y_left", "y_right", "angle_deg", "confidence")
# all that predict writes into OUT (still frames; sequences)
OUTPUTS = ("horizon.csv", "masks", "overlays", "overlay.mp4", "overlay.avi", "masks.mkv", "masks.avi")
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
# settings that only a sequence (video, camera, stream, folder with sequence=true) uses
SEQUENCE_ONLY = ("fps", "save_masks", "tracker")
PATH_KEYS = ("input", "output_dir", "ckpt_path")  # read as text whatever Hydra parsed them as


def outputs_of_run(sequence: bool, overlay: bool, save_masks: str = "false") -> list[str]:
    """The names (of :data:`OUTPUTS`) that a run writes into OUT, for its manifest. A video that this OpenCV
    cannot write as .mp4/.mkv is written as .avi (:class:`seaSky.video.VideoWriter`): both are named."""
    if not sequence:
        return ["horizon.csv", "masks", *(["overlays"] if overlay else [])]
    names = ["horizon.csv", *(["overlay.mp4", "overlay.avi"] if overlay else [])]
    return names + {"png": ["masks"], "video": ["masks.mkv", "masks.avi"]}.get(save_masks, [])


def check_still_settings(cfg: DictConfig, input_text: str) -> None:
    """ConfigError naming the first setting of :data:`SEQUENCE_ONLY` that differs from its default in
    conf/predict.yaml, for an input read as still frames (it would be silently ignored); ``save_masks=png``
    is fine (still frames write PNG masks anyway)."""
    defaults = OmegaConf.load(CONFIG_DIR / "predict.yaml")
    settings = [(key, cfg[key], defaults[key]) for key in SEQUENCE_ONLY if key != "tracker"]
    settings += [
        (f"tracker.{key}", value, defaults.tracker.get(key)) for key, value in (cfg.tracker or {}).items()
    ]
    changed = [(key, value) for key, value, default in settings if value != default]
    if cfg.save_masks != defaults.save_masks and mask_format(cfg.save_masks) == "png":
        changed.remove(("save_masks", cfg.save_masks))  # PNG masks are what still frames write anyway
    if changed:
        key, value = changed[0]
        hint = " or pass sequence=true" if Path(input_text).is_dir() else ""
        raise ConfigError(
            f"{key}={value}: a setting of sequences only (a video, camera, stream, or a folder with "
            f"sequence=true), and input={input_text} is read as still frames; drop it{hint}"
        )


def check_overlay(overlay: object) -> bool:
    """``overlay`` as a bool; ConfigError unless it is true or false."""
    if not isinstance(overlay, bool):
        raise ConfigError(f"overlay must be true or false, got {overlay!r}")
    return overlay


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


def earlier_predictions(input_path: str | Path, output_dir: str | Path, overwrite: bool) -> list[Path]:
    """The outputs of an earlier seaSky run in ``output_dir``, to delete (ConfigError unless ``overwrite``).

    A ConfigError whatever ``overwrite`` where one of the names predict writes is there but seaSky did not
    write it (a user's own ``masks/``), where an earlier run's ``masks/`` sits beside ``images/`` (a data
    set's labels, perhaps corrected by hand since), or where the input lies in one of the outputs.
    """
    found = earlier_outputs(output_dir, OUTPUTS, overwrite=True)  # a user's files: refused here
    masks = Path(output_dir) / "masks"
    if masks in found and (Path(output_dir) / "images").is_dir():
        raise ConfigError(
            f"{output_dir}: its masks/ sits beside images/ like a data set's labels; an earlier predict "
            "wrote it, but it may have been corrected by hand since, so predict does not replace it (not "
            "even with overwrite=true): move masks/ or choose another output_dir"
        )
    earlier_outputs(output_dir, OUTPUTS, overwrite)  # an earlier run's outputs: refused unless overwrite
    if is_stream(input_path):
        return found
    source = Path(input_path).resolve()
    for path in found:
        if source == path.resolve() or path.resolve() in source.parents:
            raise ConfigError(f"{input_path}: the input lies in {path}, an output; choose another output_dir")
    return found


def predict_folder(
    predictor: Predictor,
    input_path: str | Path,
    output_dir: str | Path,
    batch_size: int = 16,
    overwrite: bool = False,
    overlay: bool = True,
) -> list[dict]:
    """Predict every frame of ``input_path`` into ``output_dir``; return the horizon rows written.

    Writes ``masks/``, ``horizon.csv`` and (``overlay``) ``overlays/``. An earlier run's outputs in
    ``output_dir`` are a ConfigError, or with ``overwrite`` deleted once the first frames are predicted (a
    run that cannot predict any frame leaves them as they were); a user's files are never touched
    (:func:`earlier_predictions`).
    """
    paths = list_inputs(input_path)
    out = Path(output_dir)
    earlier = earlier_predictions(input_path, out, overwrite)
    rows: list[dict] = []
    with tqdm(total=len(paths), desc="predict", unit="img") as bar:
        for batch in read_batches(paths, batch_size):
            results = predictor.predict([image for _, image in batch])
            if not rows:  # the run has started: replace the earlier run's outputs
                remove_outputs(earlier)
                record_outputs(out, outputs_of_run(sequence=False, overlay=overlay))
            for (path, image), result in zip(batch, results, strict=True):
                _write_png(out / "masks" / f"{path.stem}.png", result.mask * 255)
                line = (result.horizon.y_left, result.horizon.y_right) if result.horizon else None
                if overlay:
                    _write_png(
                        out / "overlays" / f"{path.stem}.png",
                        overlay_frame(normalize_image(image), result.mask, line),
                    )
                rows.append(horizon_row(path.stem, result))
            bar.update(len(batch))
        bar.update(len(paths) - bar.n)  # skipped files
    if not rows:
        raise DataError(
            f"{input_path}: none of its {len(paths)} frame(s) could be predicted (unreadable or smaller "
            f"than {MIN_FRAME_SIZE}x{MIN_FRAME_SIZE} px; see the warnings above)"
        )
    write_csv(out / "horizon.csv", rows, HORIZON_COLUMNS)
    return rows


def tracker_config(node: DictConfig | dict | None) -> TrackerConfig:
    """The ``tracker`` node of predict.yaml as a TrackerConfig (ConfigError naming an unknown key)."""
    values = dict(node or {})
    known = TrackerConfig.__dataclass_fields__
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"tracker.{unknown[0]}: not a tracker setting; settings: {', '.join(known)}")
    return TrackerConfig(**values)


def run_sequence(cfg: DictConfig) -> int:
    """Predict a video, camera, stream or folder sequence (``cfg`` as predict.yaml); the exit code."""
    source_name = str(cfg.input)
    # every check before anything is deleted, the model loads or the source opens
    tracker = tracker_config(cfg.tracker)
    masks = mask_format(cfg.save_masks)
    check_fps(cfg.fps)
    folder = not is_stream(source_name) and Path(source_name).is_dir()
    paths = list_inputs(source_name) if folder else []  # a video, camera or stream: none
    earlier = earlier_predictions(source_name, cfg.output_dir, cfg.overwrite)
    source = open_sequence(cfg.input, paths, cfg.fps)  # a bad video: one line before the model loads
    try:
        predictor = load_predictor(cfg.ckpt_path, cfg.device, cfg.precision, cfg.get("threads"))
        remove_outputs(earlier)  # overwrite=true: only once the run can start
        record_outputs(cfg.output_dir, outputs_of_run(sequence=True, overlay=cfg.overlay, save_masks=masks))
    except BaseException:
        if callable(source.close):
            source.close()
        raise
    summary = predict_sequence(
        predictor, source, cfg.output_dir, tracker, cfg.overlay, cfg.save_masks, cfg.batch_size
    )
    states = ", ".join(f"{state} {n}" for state, n in summary.states.most_common())
    log.info(
        "%d frames of %s -> %s in %.1f s (%.1f frames/s end to end, %s); tracker: %s",
        summary.frames, source.name, cfg.output_dir, summary.seconds, summary.fps,
        backend_name(predictor), states,
    )  # fmt: skip
    if summary.interrupted:
        log.warning(
            "stopped by %s after %d frames: %s hold them", summary.interrupted, summary.frames,
            ", ".join(str(path) for path in summary.outputs),
        )  # fmt: skip
        return EXIT_CODES.get(summary.interrupted, 130)  # no review page: python -m seaSky.review OUT
    from seaSky.review import review_after_run

    review_after_run(cfg.output_dir, cfg.review, cfg.overwrite)
    return 0


def backend_name(predictor: Predictor) -> str:
    """E.g. ``PyTorch cpu bf16`` or ``ONNX Runtime cpu float32``, for logs and benchmarks."""
    if predictor.__class__.__name__ == "OnnxPredictor":
        return f"ONNX Runtime cpu {'int8' if predictor.precision == 'int8' else 'float32'}"
    precision = "bf16" if predictor.precision == "bf16" else "float32"
    return f"PyTorch {predictor.device.type} {precision}"


def check_settings(cfg: DictConfig) -> bool:
    """Check the settings that need no file (before any work) and read the path keys as text (in ``cfg``);
    return whether the input is a sequence."""
    for key in PATH_KEYS:
        cfg[key] = typed_text(cfg, key)
    for key in ("input", "output_dir"):
        if cfg[key] is None or not str(cfg[key]).strip():
            raise ConfigError(f"{key}: no value given; pass {key}=... on the command line")
    check_device(cfg.device)
    check_overlay(cfg.overlay)
    from seaSky.review import check_review  # plotly loads only when the page is written

    check_review(cfg.output_dir, cfg.review)
    sequence = is_sequence_input(cfg.input, cfg.sequence)
    if not sequence:
        check_still_settings(cfg, cfg.input)
    return sequence


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="predict")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        sequence = check_settings(cfg)
    if sequence:
        with exit_on_error(log):
            code = run_sequence(cfg)
        if code:
            sys.exit(code)
        return
    with exit_on_error(log):
        paths = list_inputs(cfg.input)  # input and output problems first, before the model loads
        earlier_predictions(cfg.input, cfg.output_dir, cfg.overwrite)
        predictor = load_predictor(cfg.ckpt_path, cfg.device, cfg.precision, cfg.get("threads"))
        rows = predict_folder(
            predictor, cfg.input, cfg.output_dir, cfg.batch_size, cfg.overwrite, cfg.overlay
        )
    skipped = len(paths) - len(rows)
    log.info(
        "%d frames -> %s (%d skipped: unreadable or smaller than %dx%d px)",
        len(rows), cfg.output_dir, skipped, MIN_FRAME_SIZE, MIN_FRAME_SIZE,
    )  # fmt: skip
    with exit_on_error(log):
        from seaSky.review import review_after_run

        review_after_run(cfg.output_dir, cfg.review, cfg.overwrite)


if __name__ == "__main__":
    run_cli(main)
