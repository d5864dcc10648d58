"""The pretrained model shipped in the package (``model.ckpt``, with ``config.yaml`` and ``metrics.json``).

``make pretrained`` trains it in two stages, ``python -m seaSky.train experiment=pretrained`` (20000
scenes, best on a GPU) and ``experiment=pretrained_anneal init_from=<stage 1's best>``, and installs the
anneal run's best checkpoint here with ``python -m seaSky.pretrained RUN_DIR``: weights and
hyper-parameters only (no optimiser state), so it stays small. Every command that takes a checkpoint
uses it when no ``ckpt_path`` is given, or when it is ``pretrained`` (:func:`resolve_checkpoint`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from seaSky.errors import DataError
from seaSky.io import atomic_write

PRETRAINED_DIR = Path(__file__).parent
PRETRAINED_CKPT = PRETRAINED_DIR / "model.ckpt"
KEEP = ("state_dict", "hyper_parameters", "datamodule_hyper_parameters", "pytorch-lightning_version", "epoch",
        "global_step")  # fmt: skip


def resolve_checkpoint(ckpt_path: str | Path | None) -> Path:
    """The checkpoint a ``ckpt_path`` (or ``init_from``) value names: the shipped model for None, "" or
    ``pretrained``; else the path itself."""
    if ckpt_path is None or str(ckpt_path).strip() in ("", "pretrained"):
        return PRETRAINED_CKPT
    return Path(ckpt_path)


def install(run_dir: str | Path, target: Path = PRETRAINED_DIR) -> Path:
    """Copy the best checkpoint of a training run (slimmed), its config and its results into ``target``."""
    import torch

    run_dir = Path(run_dir)
    if not (run_dir / "results.json").is_file():
        raise DataError(f"{run_dir}: no results.json; is it the run dir of a finished seaSky.train run?")
    results = json.loads((run_dir / "results.json").read_text())
    ckpt = torch.load(results["ckpt_best"], map_location="cpu", weights_only=True)
    slim = {key: ckpt[key] for key in KEEP if key in ckpt}
    out = target / "model.ckpt"
    atomic_write(out, lambda tmp: torch.save(slim, tmp))
    shutil.copyfile(run_dir / ".hydra" / "config.yaml", target / "config.yaml")
    results = {**results, "ckpt_best": "model.ckpt", "output_dir": str(run_dir.name)}
    atomic_write(target / "metrics.json", lambda tmp: tmp.write_text(json.dumps(results, indent=2) + "\n"))
    return out
