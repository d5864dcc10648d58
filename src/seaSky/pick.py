"""Pick the frames worth labelling: ``python -m seaSky.pick input=FRAMES_DIR_OR_VIDEO n=10 output_dir=OUT``.

The input is one sequence, read as ``seaSky.check_footage`` reads it (a video frame by frame, or a folder's
frames in :func:`seaSky.frames.frame_order_key` order); every ``every``-th frame is checked with the
label-free checks of :mod:`seaSky.footage` (the model's horizon and confidence, the agreement with the
mirrored frame, the sea's shape, the horizon's step to the neighbouring checked frames), which
:func:`seaSky.footage.problem_scores` sums into one "how unsure is the model here" score.

The rule, kept simple: the checked frames are cut into ``n`` consecutive segments of equal length and in
each the frame with the highest score is picked, except that a pick keeps at least half a segment away
from the one before it. So the picks are spread over the whole footage (every part of it once: no ten
near-identical neighbours from one bad second) and, within its part, each is the frame where the model is
least sure. A frame the model handles well everywhere still gets picked in its part: a few easy frames
keep a fine-tuning from forgetting what already works.

Writes ``OUT/picked.csv`` (``file`` relative to OUT, the frame's ``index`` in the sequence, ``source``,
``segment``, ``score`` and ``why``: the checks that made it suspect) and ``OUT/images/``: copies of the
picked files (a folder's, byte for byte) or PNGs of the picked video frames (``<video>_<index:06d>.png``),
so that ``python -m seaSky.label input=OUT`` opens them directly. An OUT holding them from an earlier run is
refused unless ``overwrite=true``, and one holding labels of them (``lines.csv``) always: they would lose
their frames; files seaSky did not write are never replaced (:func:`seaSky.io.earlier_outputs`).
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig

from seaSky import footage
from seaSky.check_footage import _check_frames, _frames_named, open_footage
from seaSky.cli import run_cli, typed_text
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.inference import Predictor, load_predictor
from seaSky.io import atomic_write, earlier_outputs, record_outputs, remove_outputs, write_csv
from seaSky.paths import CONFIG_DIR
from seaSky.sequence import SequenceSource, is_stream

log = logging.getLogger(__name__)
OUTPUTS = ("picked.csv", "images")  # all that it writes into OUT
COLUMNS = ("file", "index", "source", "segment", "score", "why")


def check_settings(n: int, every: int, batch_size: int) -> None:
    """ConfigError unless ``n``, ``every`` and ``batch_size`` are whole numbers of at least 1."""
    for key, value in (("n", n), ("every", every), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a whole number of at least 1, got {value!r}")


def check_outputs(input_path: str | Path, output_dir: str | Path, overwrite: bool = False) -> list[Path]:
    """The earlier outputs in OUT that ``overwrite`` will replace; ConfigError for an OUT that is the input
    folder, that holds an earlier pick (unless ``overwrite``), files seaSky did not write under their
    names, or labels of the picked frames (lines.csv of seaSky.label)."""
    out = Path(str(output_dir))
    if not is_stream(str(input_path)) and Path(str(input_path)).resolve() in (
        out.resolve(),
        out.resolve() / "images",
    ):
        raise ConfigError(f"{output_dir}: holds the input frames; choose another output_dir")
    found = earlier_outputs(out, OUTPUTS, overwrite)
    if found and (out / "lines.csv").exists():
        raise ConfigError(
            f"{output_dir}: holds labels of the frames picked there before (lines.csv); picking again would "
            "take their frames away: choose another output_dir"
        )
    return found


def pick_indices(scores: Sequence[float], n: int) -> list[int]:
    """The picks among frames of these scores (in sequence order): in each of ``n`` equal consecutive
    segments the highest-scoring frame at least half a segment after the previous pick (ties: the
    earliest). All frames when there are at most ``n``."""
    total = len(scores)
    if total <= n:
        return list(range(total))
    values = np.asarray(scores, dtype=np.float64)
    bounds = np.linspace(0, total, n + 1)
    gap = total / n / 2
    picks: list[int] = []
    for k in range(n):
        start, stop = math.floor(bounds[k]), math.floor(bounds[k + 1])
        if picks:
            start = max(start, min(stop - 1, math.ceil(picks[-1] + gap)))
        picks.append(start + int(np.argmax(values[start:stop])))
    return picks


def why(check: footage.FrameCheck, step_px: float, jump_px: float) -> str:
    """The checks that make a frame suspect, in words (``"looks fine"`` when none does)."""
    reasons = []
    if not check.has_horizon:
        reasons.append("no horizon found")
    elif check.confidence < 0.8:
        reasons.append(f"horizon confidence {check.confidence:.2f}")
    if check.mirror_dice < 0.99:
        reasons.append(f"mirror Dice {check.mirror_dice:.3f}")
    if step_px > jump_px:
        reasons.append(f"horizon step {step_px:.1f} px")
    if not check.sea_touches_bottom:
        reasons.append("sea off the bottom edge")
    if check.sea_pieces > 1:
        reasons.append(f"sea in {check.sea_pieces} pieces")
    return "; ".join(reasons) or "looks fine"


def _every(source: SequenceSource, every: int) -> SequenceSource:
    """The source with every ``every``-th frame only (by the frame's index in the sequence)."""
    frames: Iterator = (item for item in source.frames if item[0] % every == 0)
    total = -(-source.total // every) if source.total else source.total
    return SequenceSource(frames, source.name, source.fps, total, source.live, source.close)


def pick(
    predictor: Predictor,
    input_path: str | Path,
    output_dir: str | Path,
    n: int = 10,
    every: int = 1,
    batch_size: int = 8,
    jump_px: float = 5.0,
    overwrite: bool = False,
) -> list[dict]:
    """Pick ``n`` frames of ``input_path`` (a folder or a video) to label, write them and picked.csv into
    ``output_dir``; return picked.csv's rows."""
    check_settings(n, every, batch_size)
    found = check_outputs(input_path, output_dir, overwrite)
    source, paths = open_footage(input_path)
    return run_pick(predictor, source, paths, output_dir, n, every, batch_size, jump_px, found)


def run_pick(
    predictor: Predictor,
    source: SequenceSource,
    paths: Sequence[Path],
    output_dir: str | Path,
    n: int = 10,
    every: int = 1,
    batch_size: int = 8,
    jump_px: float = 5.0,
    replace: Sequence[Path] = (),
) -> list[dict]:
    """The picks of an opened sequence (``paths``: a folder's frames, empty for a video); ``replace``: an
    earlier pick's outputs, removed only once the new picks are known."""
    files = {path.stem: path for path in paths}
    checks = _check_frames(predictor, _every(source, every), files, batch_size)
    if not checks:
        raise DataError(f"{source.name}: no readable frames")
    scores = footage.problem_scores(checks, jump_px)
    dy, _ = footage.frame_steps(checks)
    dy = np.where(np.isfinite(dy), dy, 0.0)
    steps = np.maximum(np.r_[0.0, dy], np.r_[dy, 0.0]) if len(checks) > 1 else np.zeros(1)
    chosen = pick_indices(scores, n)
    if len(checks) < n:
        log.warning("%s: only %d readable frames checked; all of them are picked", source.name, len(checks))
    names = [checks[i].stem for i in chosen]
    video_frames = {} if paths else _frames_named(source.name, paths, set(names))
    out = Path(str(output_dir))
    remove_outputs(list(replace))
    record_outputs(out, OUTPUTS)
    (out / "images").mkdir(parents=True, exist_ok=True)
    segment_of = np.floor(np.arange(len(checks)) * n / len(checks)).astype(int)
    rows = []
    for i, name in zip(chosen, names, strict=True):
        if paths:
            origin = files[name]
            target = out / "images" / origin.name
            atomic_write(target, lambda tmp, origin=origin: shutil.copyfile(origin, tmp))
            index, where = paths.index(origin), str(origin)
        else:
            index = int(name)
            target = out / "images" / f"{Path(source.name).stem}_{index:06d}.png"
            frame = video_frames.get(name)
            if frame is None:
                raise DataError(f"{source.name}: frame {index} could not be decoded a second time")
            _write_png(target, frame)
            where = f"{source.name} frame {index}"
        rows.append({
            "file": f"images/{target.name}", "index": index, "source": where, "segment": int(segment_of[i]),
            "score": round(float(scores[i]), 4), "why": why(checks[i], float(steps[i]), jump_px),
        })  # fmt: skip
    write_csv(out / "picked.csv", rows, COLUMNS)
    return rows


def _write_png(path: Path, frame: np.ndarray) -> None:
    """A video frame as PNG (8 or 16 bit as decoded), atomically."""
    import cv2

    if frame.dtype not in (np.uint8, np.uint16):
        frame = np.clip(frame, 0, 65535).astype(np.uint16 if frame.max() > 255 else np.uint8)
    ok, encoded = cv2.imencode(".png", frame)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    atomic_write(path, lambda tmp: tmp.write_bytes(encoded.tobytes()))


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="pick")
def main(cfg: DictConfig) -> list[dict]:
    """Hydra entry point: every check (settings, OUT, the input) before the model loads."""
    with exit_on_error(log):
        for key in ("input", "output_dir", "ckpt_path"):  # input=2024: a folder, not a number
            cfg[key] = typed_text(cfg, key)
        check_settings(cfg.n, cfg.every, cfg.batch_size)
        found = check_outputs(cfg.input, cfg.output_dir, cfg.overwrite)
        source, paths = open_footage(cfg.input)
        try:
            predictor = load_predictor(cfg.ckpt_path, device=cfg.device)
        except BaseException:
            if callable(source.close):
                source.close()
            raise
        rows = run_pick(
            predictor, source, paths, str(cfg.output_dir), cfg.n, cfg.every, cfg.batch_size,
            float(cfg.jump_px), found,
        )  # fmt: skip
    out = Path(str(cfg.output_dir))
    log.info(
        "picked %d frames -> %s; label them: python -m seaSky.label input=%s",
        len(rows),
        out / "picked.csv",
        out,
    )
    return rows


if __name__ == "__main__":
    run_cli(main)
