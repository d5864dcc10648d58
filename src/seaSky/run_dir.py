"""A training run's directory: what a run writes there, and the rule that an earlier run's outputs are
replaced only with ``overwrite=true`` (or continued by resuming one of its checkpoints).

:class:`RunDirGuard` applies the rule as a Hydra callback before Hydra writes the new run's ``.hydra/``
config into the directory, so that a refused run leaves the earlier run's config as it was. Light on
purpose (no torch or Lightning import).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from seaSky.errors import EXIT_USER_ERROR, ConfigError, one_line
from seaSky.io import earlier_outputs, record_outputs, remove_outputs

# what a training run writes in its run dir (besides Hydra's .hydra/ and train.log)
OUTPUTS = ("checkpoints", "results.json", "metrics.csv", "curves.png", "predictions.png", "csv", "wandb")
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "NODE_RANK")


def is_worker_process() -> bool:
    """A DDP process other than global rank 0 (Lightning's launcher, torchrun or SLURM): rank 0 claims."""
    return any(int(os.environ.get(name, "0") or 0) > 0 for name in RANK_VARIABLES)


def resumes(output_dir: Path, ckpt_path: str | None) -> bool:
    """Whether ``ckpt_path`` is a checkpoint inside ``output_dir`` (resuming that run)."""
    return bool(ckpt_path) and output_dir.resolve() in Path(str(ckpt_path)).resolve().parents


def check_run_dir(output_dir: Path, ckpt_path: str | None, overwrite: bool) -> list[Path]:
    """The earlier run's outputs in ``output_dir`` to replace (ConfigError unless ``overwrite``; a user's
    files always); none when the run resumes a checkpoint of that dir."""
    if resumes(output_dir, ckpt_path):
        return []
    return earlier_outputs(output_dir, OUTPUTS, overwrite, other="hydra.run.dir")


def claim_run_dir(output_dir: Path, ckpt_path: str | None, init_from: Path | None, overwrite: bool) -> None:
    """Check the run dir, then remove an earlier run's outputs (``overwrite``) and record this run's. The
    model a fine-tune starts from may not lie among the outputs it would remove."""
    if is_worker_process():
        return
    earlier = check_run_dir(output_dir, ckpt_path, overwrite)
    source = init_from.resolve() if init_from is not None else None
    for path in earlier:
        if source is not None and (source == path.resolve() or path.resolve() in source.parents):
            raise ConfigError(
                f"init_from={init_from}: lies in {path}, an output of the earlier run that overwrite=true "
                "would replace; copy it elsewhere or choose another hydra.run.dir"
            )
    remove_outputs(earlier)
    record_outputs(output_dir, OUTPUTS)


class RunDirGuard(Callback):
    """Refuses ``hydra.run.dir`` holding an earlier run before Hydra writes the new run's config there."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_worker_process():
            return
        overwrite = bool(config.get("overwrite"))
        try:
            check_run_dir(Path(str(config.hydra.run.dir)), config.get("ckpt_path"), overwrite)
        except ConfigError as err:  # Hydra turns a callback's exception into a warning and runs on: exit here
            print(one_line(err), file=sys.stderr)
            raise SystemExit(EXIT_USER_ERROR) from None
