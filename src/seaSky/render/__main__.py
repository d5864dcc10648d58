"""Render a synthetic data set, a contact sheet or statistics:
``python -m seaSky.render out_dir=DIR n=2000 seed=0 preset=default`` (config: ``conf/render.yaml``);
or, with ``sequence=true``, n frames of one scene seen by a moving camera (``fps``, ``video``, ``seq.*``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from seaSky.cli import run_cli
from seaSky.errors import ConfigError, exit_on_error
from seaSky.paths import CONFIG_DIR
from seaSky.render.dataset import scene_seed, write_dataset
from seaSky.render.knobs import SceneConfig
from seaSky.render.pipeline import render_scene
from seaSky.render.preview import contact_sheet
from seaSky.render.sequence import SequenceConfig, write_sequence
from seaSky.render.stats import compute_stats

log = logging.getLogger("seaSky.render")


def run(cfg: DictConfig) -> Path:
    """Do what the CLI config asks: render the set, or only a preview, and/or statistics."""
    scene = SceneConfig.from_dict(OmegaConf.to_container(cfg.preset, resolve=True))
    out = Path(cfg.out_dir)
    if cfg.sequence:
        if cfg.preview or cfg.stats:
            raise ConfigError("preview and stats describe a data set of stills: not with sequence=true")
        write_sequence(
            out,
            cfg.n,
            cfg.seed,
            scene,
            SequenceConfig.from_dict(OmegaConf.to_container(cfg.seq, resolve=True)),
            cfg.width,
            cfg.height,
            cfg.fps,
            cfg.bit_depth,
            cfg.video,
            cfg.workers,
            cfg.progress,
        )
        print(f"wrote {cfg.n} frames of a sequence to {out}")
        return out
    if cfg.video:
        raise ConfigError("video=true writes a sequence's frames: it needs sequence=true")
    if cfg.preview:
        n_prev = int(cfg.preview_n)
        scenes = [render_scene(scene_seed(cfg.seed, i), cfg.width, cfg.height, scene) for i in range(n_prev)]
        path = contact_sheet(scenes, cfg.preview_path or out / "preview.png", max_tiles=n_prev)
        print(f"preview: {path}")
        if not cfg.stats:
            return path
    if not cfg.stats or not (out / "dataset.json").exists():
        write_dataset(
            out,
            cfg.n,
            cfg.seed,
            scene,
            cfg.width,
            cfg.height,
            cfg.bit_depth,
            tuple(cfg.split_fractions),
            cfg.workers,
            cfg.progress,
        )
        print(f"wrote {cfg.n} scenes to {out}")
    if cfg.stats:
        print(json.dumps(compute_stats(out), indent=2))
    return out


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="render")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        run(cfg)


if __name__ == "__main__":
    run_cli(main)
