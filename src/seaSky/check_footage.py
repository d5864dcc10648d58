"""Label-free checks of a model on your own unlabelled frames:
``python -m seaSky.check_footage input=FRAMES_DIR output_dir=OUT [ckpt_path=PATH]``.

Frames are taken in name order as one sequence. Writes ``OUT/footage.json`` (the figures of
:func:`seaSky.footage.summarize`), ``OUT/footage.md`` (the same as a table), ``OUT/frames.csv`` (per
frame) and ``OUT/worst.png`` (overlays of the most suspect frames: big horizon steps, mirror
disagreement, no horizon, sea off the bottom edge or in pieces). Without ``ckpt_path``: the pretrained
model; an ``.onnx`` file of ``seaSky.export`` runs with ONNX Runtime.
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
from seaSky.cli import run_cli
from seaSky.data.folder import read_image
from seaSky.data.preprocess import normalize_image
from seaSky.errors import DataError, exit_on_error
from seaSky.frames import list_inputs, read_batches
from seaSky.inference import Predictor, load_predictor
from seaSky.io import atomic_write, write_csv, write_json
from seaSky.paths import CONFIG_DIR
from seaSky.viz import overlay_frame

log = logging.getLogger(__name__)
FRAME_COLUMNS = (
    "stem", "has_horizon", "centre_y", "angle_deg", "confidence", "step_dy_px", "step_dangle_deg",
    "mirror_dice", "sea_share", "sea_touches_bottom", "sea_pieces", "problem_score",
)  # fmt: skip


def check_footage(
    predictor: Predictor,
    input_path: str | Path,
    output_dir: str | Path,
    batch_size: int = 8,
    jump_px: float = 5.0,
    n_worst: int = 12,
) -> dict:
    """Run the label-free checks over the frames of ``input_path``; write the outputs; return the summary."""
    paths = list_inputs(input_path)  # DataError where there is no frame
    checks: list[footage.FrameCheck] = []
    by_stem = {}
    with tqdm(total=len(paths), desc="check footage", unit="frame") as bar:
        for batch in read_batches(paths, batch_size):
            checks += footage.check_batch(predictor, [(path.stem, image) for path, image in batch])
            by_stem.update({path.stem: path for path, _ in batch})
            bar.update(len(batch))
    if len(checks) < 2:
        raise DataError(f"{input_path}: fewer than 2 readable frames; the checks need a sequence")
    out = Path(output_dir)
    summary = {"input": str(input_path), **footage.summarize(checks, jump_px)}
    scores = footage.problem_scores(checks, jump_px)
    write_json(out / "footage.json", summary)
    write_csv(out / "frames.csv", footage.rows(checks, scores), FRAME_COLUMNS)
    atomic_write(out / "footage.md", lambda tmp: tmp.write_text(markdown(summary)))
    worst = np.argsort(-scores, kind="stable")[:n_worst]
    _worst_sheet(
        predictor, [checks[i] for i in worst], [scores[i] for i in worst], by_stem, out / "worst.png"
    )
    return summary


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
        f"{summary['n_frames']} frames, taken in name order as one sequence.",
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
    paths: dict[str, Path],
    path: Path,
    cols: int = 4,
    tile_width: int = 320,
) -> None:
    """Overlays (sea tinted, horizon in red) of the given frames with their stem and problem score."""
    tiles = []
    for check, score in zip(checks, scores, strict=True):
        image = read_image(paths[check.stem])
        result = predictor.predict([image])[0]
        line = (result.horizon.y_left, result.horizon.y_right) if result.horizon else None
        tile = overlay_frame(normalize_image(image), result.mask, line)
        height = round(tile.shape[0] * tile_width / tile.shape[1])
        tile = cv2.resize(tile, (tile_width, height), interpolation=cv2.INTER_AREA)
        text = f"{check.stem}  score {score:.2f}  mirror {check.mirror_dice:.3f}"
        cv2.rectangle(tile, (0, 0), (tile_width - 1, 17), (0, 0, 0), -1)
        cv2.putText(tile, text, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 230, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    height = max(t.shape[0] for t in tiles)
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (height + 2), min(cols, len(tiles)) * (tile_width + 2), 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        top, left = r * (height + 2), c * (tile_width + 2)
        sheet[top : top + tile.shape[0], left : left + tile_width] = tile
    ok, encoded = cv2.imencode(".png", sheet)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="check_footage")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point."""
    with exit_on_error(log):
        predictor = load_predictor(cfg.ckpt_path, device=cfg.device)
        summary = check_footage(
            predictor, cfg.input, cfg.output_dir, cfg.batch_size, float(cfg.jump_px), int(cfg.n_worst)
        )
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
        Path(cfg.output_dir) / "footage.md",
    )
    return summary


if __name__ == "__main__":
    run_cli(main)
