"""Load a trained model from a ``seaSky.train`` checkpoint (the one loader of predict, evaluate, export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seaSky.errors import CheckpointError, one_line
from seaSky.model.module import SeaSkyModule
from seaSky.preflight import check_is_file


def load_trained(ckpt_path: str | Path) -> tuple[SeaSkyModule, dict[str, Any]]:
    """The SeaSkyModule of a checkpoint written by ``seaSky.train`` (on the CPU) and the raw checkpoint
    dict (its ``datamodule_hyper_parameters`` hold the preprocessing).

    Raises:
        CheckpointError: the file is missing (or a folder), unreadable, or not a seaSky checkpoint.
    """
    path = Path(ckpt_path)
    check_is_file(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and permission errors all mean "cannot use this file"
        # an unpickling or zip error only by its type: torch's message advises weights_only=False, wrong
        # for a damaged file; a permission or disk error as it is
        detail = one_line(err) if isinstance(err, OSError) else type(err).__name__
        raise CheckpointError(
            f"{path}: not a readable checkpoint (not a PyTorch checkpoint, or truncated; {detail})"
        ) from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "hyper_parameters" not in ckpt:
        raise CheckpointError(f"{path}: not a seaSky checkpoint (no state_dict/hyper_parameters)")
    try:
        module = SeaSkyModule.load_from_checkpoint(path, map_location="cpu")
    except Exception as err:
        raise CheckpointError(f"{path}: cannot restore the model: {one_line(err)}") from None
    return module, ckpt
