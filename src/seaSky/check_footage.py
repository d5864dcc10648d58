"""Label-free checks of a model on your own unlabelled footage:
``python -m seaSky.check_footage input=FRAMES_DIR_OR_VIDEO output_dir=OUT [ckpt_path=PATH]``.

The input is one sequence, read as ``seaSky.predict`` reads sequences (:func:`seaSky.sequence.open_sequence`):
a video file frame by frame, or a folder's frames in name order with numbers by value (``f_2`` before
``f_10``, :func:`seaSky.frames.frame_order_key`, the rule of every sequence reader). Frames of different
sizes are refused, with one line naming two files (or video frames) of different sizes: the frame-to-frame
figures are pixels of one frame size, and frames of two sizes are not one camera's sequence.

Writes ``OUT/footage.json`` (the figures of :func:`seaSky.footage.summarize`), ``OUT/footage.md`` (the same
as a table), ``OUT/frames.csv`` (per frame) and ``OUT/worst.png`` (overlays of the most suspect frames: big
horizon steps, mirror disagreement, no horizon, sea off the bottom edge or in pieces). An OUT that holds
them from an earlier run is refused unless ``overwrite=true``; files seaSky did not write there are never
replaced (:func:`seaSky.io.earlier_outputs`). Without ``ckpt_path`` (or with ``ckpt_path=pretrained``): the
model shipped in the package; an ``.onnx`` file of ``seaSky.export`` runs with ONNX Runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from seaSky import footage
from seaSky.cli import run_cli, typed_text
from seaSky.data.folder import read_image
from seaSky.data.preprocess import normalize_image
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.frames import list_inputs
from seaSky.inference import Predictor, load_predictor
from seaSky.io import atomic_write, earlier_outputs, record_outputs, write_csv, write_json
from seaSky.paths import CONFIG_DIR
from seaSky.sequence import SequenceSource, is_stream, open_sequence
from seaSky.video import is_video
from seaSky.viz import overlay_frame

log = logging.getLogger(__name__)
FRAME_COLUMNS = (
    "stem", "has_horizon", "centre_y", "angle_deg", "confidence", "step_dy_px", "step_dangle_deg",
    "mirror_dice", "sea_share", "sea_touches_bottom", "sea_pieces", "problem_score",
)  # fmt: skip
OUTPUTS = ("footage.json", "footage.md", "frames.csv", "worst.png")  # all that it writes into OUT


def check_settings(batch_size: int, n_worst: int) -> None:
    """ConfigError unless ``batch_size`` and ``n_worst`` are whole numbers of at least 1."""
    for key, value in (("batch_size", batch_size), ("n_worst", n_worst)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a whole number of at least 1, got {value!r}")


def check_outputs(input_path: str | Path, output_dir: str | Path, overwrite: bool = False) -> None:
    """ConfigError for an OUT that holds an earlier run's outputs (unless ``overwrite``) or files seaSky did
    not write under their names, or that is the input folder (worst.png would become one of its frames)."""
    out = Path(str(output_dir))
    if not is_stream(str(input_path)) and Path(str(input_path)).resolve() == out.resolve():
        raise ConfigError(
            f"{output_dir}: is the input folder; worst.png would become one of its frames: choose another "
            "output_dir"
        )
    earlier_outputs(out, OUTPUTS, overwrite)


def open_footage(input_path: str | Path) -> tuple[SequenceSource, list[Path]]:
    """The input as predict opens a sequence: a video file (no paths), or a folder's frames (their paths,
    in frame order). DataError for a camera or stream (no end), and for a folder without frames."""
    text = str(input_path)
    if is_stream(text):
        raise DataError(
            f"{text}: a camera or stream; check_footage needs recorded footage: a video file or a folder "
            "of frames"
        )
    paths = [] if is_video(text) else list_inputs(text)
    return open_sequence(text, paths), paths


def check_footage(
    predictor: Predictor,
    input_path: str | Path,
    output_dir: str | Path,
    batch_size: int = 8,
    jump_px: float = 5.0,
    n_worst: int = 12,
    overwrite: bool = False,
) -> dict:
    """Run the label-free checks over the frames of ``input_path`` (a folder or a video); write the outputs
    into ``output_dir``; return the summary."""
    check_settings(batch_size, n_worst)
    check_outputs(input_path, output_dir, overwrite)
    source, paths = open_footage(input_path)
    return run_checks(predictor, source, paths, output_dir, batch_size, jump_px, n_worst)


def run_checks(
    predictor: Predictor,
    source: SequenceSource,
    paths: Sequence[Path],
    output_dir: str | Path,
    batch_size: int = 8,
    jump_px: float = 5.0,
    n_worst: int = 12,
) -> dict:
    """The checks of an opened sequence (``paths``: a folder's frames, empty for a video); the outputs are
    written once all is computed."""
    checks = _check_frames(predictor, source, {path.stem: path for path in paths}, batch_size)
    if len(checks) < 2:
        raise DataError(f"{source.name}: fewer than 2 readable frames; the checks need a sequence")
    summary = {"input": source.name, **footage.summarize(checks, jump_px)}
    scores = footage.problem_scores(checks, jump_px)
    worst = [int(i) for i in np.argsort(-scores, kind="stable")[:n_worst]]
    frames = _frames_named(source.name, paths, {checks[i].stem for i in worst})
    sheet = _worst_sheet(predictor, [checks[i] for i in worst], [float(scores[i]) for i in worst], frames)
    out = Path(str(output_dir))
    record_outputs(out, OUTPUTS)
    write_json(out / "footage.json", summary)
    write_csv(out / "frames.csv", footage.rows(checks, scores), FRAME_COLUMNS)
    atomic_write(out / "footage.md", lambda tmp: tmp.write_text(markdown(summary)))
    atomic_write(out / "worst.png", lambda tmp: tmp.write_bytes(sheet))
    return summary


def _check_frames(
    predictor: Predictor, source: SequenceSource, files: dict[str, Path], batch_size: int
) -> list[footage.FrameCheck]:
    """The checks of every readable frame of ``source``, in order; DataError at a frame of another size."""
    checks: list[footage.FrameCheck] = []
    one_size = footage.OneSize()
    batch: list[tuple[str, np.ndarray]] = []
    try:
        with tqdm(total=source.total, desc="check footage", unit="frame") as bar:
            for index, _, frame, name in source.frames:
                one_size.check(str(files[name]) if files else f"{source.name} frame {index}", frame)
                batch.append((name, frame))
                if len(batch) == batch_size:
                    checks += footage.check_batch(predictor, batch)
                    bar.update(len(batch))
                    batch = []
            if batch:
                checks += footage.check_batch(predictor, batch)
                bar.update(len(batch))
    finally:
        if callable(source.close):
            source.close()
    return checks


def _frames_named(input_path: str, paths: Sequence[Path], names: set[str]) -> dict[str, np.ndarray]:
    """The frames of these names read again: a folder's from their files, a video's decoded again."""
    if paths:
        return {path.stem: read_image(path) for path in paths if path.stem in names}
    found: dict[str, np.ndarray] = {}
    source = open_sequence(input_path)
    try:
        for _, _, frame, name in source.frames:
            if name in names:
                found[name] = frame
            if len(found) == len(names):
                break
    finally:
        if callable(source.close):
            source.close()
    return found


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(summary: dict) -> str:
    """footage.md: the summary as a short report."""
    dy, da, mirror, conf = (
        summary[k] for k in ("step_dy_px", "step_dangle_deg", "mirror_dice", "confidence")
    )
    lines = [
        f"# Label-free checks: {summary['input']}",
        "",
        f"{summary['n_frames']} frames, taken in order as one sequence (a folder's by name, numbers by "
        "value).",
        "",
        "| check | value |",
        "|---|---|",
        f"| frames with a horizon | {summary['share_with_horizon']:.1%} |",
        f"| horizon confidence, median / p5 | {_fmt(conf['median'])} / {_fmt(summary['confidence_p5'])} |",
        f"| frame-to-frame \\|dy\\| (px), median / p95 / max | {_fmt(dy['median'])} / {_fmt(dy['p95'])} / "
        f"{_fmt(dy['max'])} |",
        f"| jumps above {summary['jump_px']:g} px | {summary['n_jumps']} |",
        f"| frame-to-frame \\|d angle\\| (deg), median / p95 / max | {_fmt(da['median'], 3)} / "
        f"{_fmt(da['p95'], 3)} / {_fmt(da['max'], 3)} |",
        f"| mirror agreement (Dice), median / mean / min | {_fmt(mirror['median'], 4)} / "
        f"{_fmt(mirror['mean'], 4)} / {_fmt(summary['mirror_dice_min'], 4)} |",
        f"| frames whose sea misses the bottom edge | {summary['share_sea_off_bottom']:.1%} |",
        f"| frames whose sea is in several pieces | {summary['share_sea_in_pieces']:.1%} |",
        "",
        "![the most suspect frames](worst.png)",
        "",
    ]
    return "\n".join(lines)


def _worst_sheet(
    predictor: Predictor,
    checks: Sequence[footage.FrameCheck],
    scores: Sequence[float],
    frames: dict[str, np.ndarray],
    cols: int = 4,
    tile_width: int = 320,
) -> bytes:
    """PNG of overlays (sea tinted, horizon in red) of the given frames with their stem and problem score."""
    tiles = []
    for check, score in zip(checks, scores, strict=True):
        image = frames.get(check.stem)
        if image is None:  # a frame that could not be read a second time
            log.warning("worst.png: frame %s could not be read again; left out", check.stem)
            continue
        result = predictor.predict([image])[0]
        line = (result.horizon.y_left, result.horizon.y_right) if result.horizon else None
        tile = overlay_frame(normalize_image(image), result.mask, line)
        height = round(tile.shape[0] * tile_width / tile.shape[1])
        tile = cv2.resize(tile, (tile_width, height), interpolation=cv2.INTER_AREA)
        text = f"{check.stem}  score {score:.2f}  mirror {check.mirror_dice:.3f}"
        cv2.rectangle(tile, (0, 0), (tile_width - 1, 17), (0, 0, 0), -1)
        cv2.putText(tile, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 230, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    height = max((t.shape[0] for t in tiles), default=18)
    rows = max(1, -(-len(tiles) // cols))
    sheet = np.full((rows * (height + 2), max(1, min(cols, len(tiles))) * (tile_width + 2), 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        top, left = r * (height + 2), c * (tile_width + 2)
        sheet[top : top + tile.shape[0], left : left + tile_width] = tile
    ok, encoded = cv2.imencode(".png", sheet)
    if not ok:
        raise OSError("worst.png: PNG encoding failed")
    return encoded.tobytes()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="check_footage")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point: every check (settings, OUT, the input) before the model loads."""
    with exit_on_error(log):
        for key in ("input", "output_dir", "ckpt_path"):  # input=2024: a folder, not a number
            cfg[key] = typed_text(cfg, key)
        check_settings(cfg.batch_size, cfg.n_worst)
        check_outputs(cfg.input, cfg.output_dir, cfg.overwrite)
        from seaSky.review import check_review, review_after_run  # plotly loads only for the page

        check_review(cfg.output_dir, cfg.review)
        source, paths = open_footage(cfg.input)
        try:
            predictor = load_predictor(cfg.ckpt_path, device=cfg.device)
        except BaseException:
            if callable(source.close):
                source.close()
            raise
        summary = run_checks(
            predictor, source, paths, str(cfg.output_dir), cfg.batch_size, float(cfg.jump_px), cfg.n_worst
        )
        review_after_run(cfg.output_dir, cfg.review, cfg.overwrite)
    dy = summary["step_dy_px"]
    log.info(
        "%d frames: horizon in %.1f%%, frame-to-frame |dy| median %s px, %d jumps > %g px, mirror Dice "
        "median %s -> %s",
        summary["n_frames"],
        100 * summary["share_with_horizon"],
        _fmt(dy["median"]),
        summary["n_jumps"],
        summary["jump_px"],
        _fmt(summary["mirror_dice"]["median"], 4),
        Path(str(cfg.output_dir)) / "footage.md",
    )
    return summary


if __name__ == "__main__":
    run_cli(main)
