"""Config helpers shared by the Hydra entry points: custom resolvers, resolved job configs, instantiation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf, open_dict

from seaSky.errors import SeaSkyError


def fast_precision(accelerator: str = "auto") -> str:
    """The fastest safe Lightning precision for ``accelerator`` (``auto``, ``cpu``, ``gpu``, ``cuda``).

    GPUs: ``bf16-mixed`` where supported (Ampere+), else ``16-mixed``. CPUs: ``bf16-mixed`` only where
    bfloat16 is native (AVX512-BF16 or AMX); elsewhere it is emulated and slower, so ``32-true``.
    """
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    try:
        native_bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError):  # a private torch API: absent in some builds
        native_bf16 = False
    return "bf16-mixed" if native_bf16 else "32-true"


def sweep_group() -> str | None:
    """Name shared by the jobs of one multirun (its sweep dir, e.g. ``2026-11-25_14-20-00``); None for
    a single run."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    sweep_dir = Path(HydraConfig.get().sweep.dir)
    return f"{sweep_dir.parent.name}_{sweep_dir.name}"


def register_resolvers() -> None:
    """Register ``${fast_precision:}`` and ``${sweep_group:}`` (idempotent)."""
    for name, function in (("fast_precision", fast_precision), ("sweep_group", sweep_group)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)


def resolved_config(cfg: DictConfig) -> dict:
    """The job's config as a plain dict with interpolations resolved (without the ``hydra`` node)."""
    job = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    return OmegaConf.to_container(job, resolve=True, throw_on_missing=True)


def instantiate(node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate``, but a SeaSkyError raised by the target (a bad value of ``data.*`` or
    ``model.*``) comes out as itself, so entry points report it in one line, not wrapped by Hydra."""
    try:
        return hydra.utils.instantiate(node, **kwargs)
    except InstantiationException as err:
        if isinstance(err.__cause__, SeaSkyError):
            raise err.__cause__ from None
        raise


def use_trained_input(data: DictConfig, ckpt: dict) -> None:
    """Set ``data.image_size`` and ``data.normalize`` (in place) to those a checkpoint was trained with,
    so that frames are prepared for its network as in its training."""
    trained_on = ckpt.get("datamodule_hyper_parameters") or {}
    with open_dict(data):
        if "image_size" in trained_on:
            data.image_size = list(trained_on["image_size"])
        if trained_on.get("normalize"):
            data.normalize = dict(trained_on["normalize"])
