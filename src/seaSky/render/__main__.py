"""Render a synthetic data set, a contact sheet or statistics:
``python -m seaSky.render out_dir=DIR n=2000 seed=0 preset=default`` (config: ``conf/render.yaml``);
or, with ``sequence=true``, n frames of one scene seen by a moving camera (``fps``, ``video``, ``seq.*``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from seaSky.cli import run_cli
from seaSky.errors import ConfigError, exit_on_error
from seaSky.io import check_replaceable, record_outputs
from seaSky.paths import CONFIG_DIR
from seaSky.render.dataset import (
    STILLS,
    dataset_params,
    folder_state,
    is_rendered_set,
    scene_seed,
    write_dataset,
)
from seaSky.render.knobs import SceneConfig
from seaSky.render.pipeline import render_scene
from seaSky.render.preview import contact_sheet
from seaSky.render.sequence import SEQUENCE, SequenceConfig, plan_sequence, sequence_params, write_sequence
from seaSky.render.stats import compute_stats

log = logging.getLogger("seaSky.render")


def run(cfg: DictConfig) -> Path:
    """Do what the CLI config asks: render the set, or only a preview, and/or statistics.

    An out_dir that holds a set rendered with the same parameters is kept; one rendered with other
    parameters is replaced only with overwrite=true; anything else there is refused, never touched.
    """
    scene = SceneConfig.from_dict(OmegaConf.to_container(cfg.preset, resolve=True))
    out = Path(cfg.out_dir)
    overwrite = bool(cfg.overwrite)
    if cfg.sequence:
        if cfg.preview or cfg.stats:
            raise ConfigError("preview and stats describe a data set of stills: not with sequence=true")
        return render_sequence_cli(cfg, scene, out, overwrite)
    if cfg.video:
        raise ConfigError("video=true writes a sequence's frames: it needs sequence=true")
    preview = Path(cfg.preview_path or out / "preview.png")
    if cfg.preview:
        check_preview_path(preview, overwrite)
    wants_set = cfg.stats or not cfg.preview  # preview=true alone renders no set
    rendered = is_rendered_set(out)
    if wants_set and not (cfg.stats and rendered):  # stats=true reads an existing set that seaSky rendered
        args = (cfg.n, cfg.seed, scene, cfg.width, cfg.height, cfg.bit_depth, tuple(cfg.split_fractions))
        state = folder_state(out, STILLS, dataset_params(*args), overwrite)
        if state == "keep":
            print(f"already rendered {cfg.n} scenes in {out} with these parameters: kept")
        else:
            write_dataset(out, *args, cfg.workers, cfg.progress, overwrite=overwrite)
            replaced = " (replaced the earlier set)" if state == "replace" else ""
            print(f"wrote {cfg.n} scenes to {out}{replaced}")
    if cfg.preview:
        print(f"preview: {write_preview(cfg, scene, preview, overwrite)}")
        if not cfg.stats:
            return preview
    if cfg.stats:
        print(json.dumps(compute_stats(out), indent=2))
    return out


def render_sequence_cli(cfg: DictConfig, scene: SceneConfig, out: Path, overwrite: bool) -> Path:
    """sequence=true: n frames of one scene, unless out_dir holds this very sequence already."""
    seq = SequenceConfig.from_dict(OmegaConf.to_container(cfg.seq, resolve=True))
    plan = plan_sequence(cfg.seed, cfg.n, cfg.width, cfg.height, scene, seq, cfg.fps)
    state = folder_state(out, SEQUENCE, sequence_params(plan, cfg.bit_depth, cfg.video), overwrite)
    if state == "keep":
        print(f"already rendered a sequence of {cfg.n} frames in {out} with these parameters: kept")
        return out
    write_sequence(
        out,
        cfg.n,
        cfg.seed,
        scene,
        seq,
        cfg.width,
        cfg.height,
        cfg.fps,
        cfg.bit_depth,
        cfg.video,
        cfg.workers,
        cfg.progress,
        overwrite=overwrite,
    )
    replaced = " (replaced the earlier sequence)" if state == "replace" else ""
    print(f"wrote {cfg.n} frames of a sequence to {out}{replaced}")
    return out


def check_preview_path(path: Path, overwrite: bool) -> None:
    """ConfigError unless ``path`` is free for a contact sheet: an existing file there only with
    ``overwrite``, and only one that seaSky wrote (the folder's manifest)."""
    if path.is_dir():
        raise ConfigError(
            f"preview_path {path}: is a folder; give a file name such as {path / 'preview.png'}"
        )
    check_replaceable(path, overwrite, "preview_path", "an earlier preview")


def write_preview(cfg: DictConfig, scene: SceneConfig, path: Path, overwrite: bool) -> Path:
    """A contact sheet of the first preview_n scenes at ``path``; an existing file there is replaced only
    with ``overwrite`` and when seaSky wrote it, and only once the new sheet is complete."""
    check_preview_path(path, overwrite)
    n_prev = int(cfg.preview_n)
    scenes = [render_scene(scene_seed(cfg.seed, i), cfg.width, cfg.height, scene) for i in range(n_prev)]
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")  # the suffix picks the format
    try:
        contact_sheet(scenes, tmp, max_tiles=n_prev)
        record_outputs(path.parent, [path.name])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="render")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        run(cfg)


if __name__ == "__main__":
    run_cli(main)
