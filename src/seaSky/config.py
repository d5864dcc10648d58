"""Config helpers shared by the Hydra entry points: custom resolvers, resolved job configs."""

from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf


def fast_precision() -> str:
    """``bf16-mixed`` where the device computes bfloat16 natively (recent x86 CPUs with AVX512-BF16 or
    AMX, Ampere+ GPUs), else ``32-true``: on older CPUs bfloat16 is emulated and slower than float32."""
    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "32-true"


def register_resolvers() -> None:
    """Register ``${fast_precision:}`` (idempotent)."""
    if not OmegaConf.has_resolver("fast_precision"):
        OmegaConf.register_new_resolver("fast_precision", fast_precision)


def resolved_config(cfg: DictConfig) -> dict:
    """The job's config as a plain dict with interpolations resolved (without the ``hydra`` node)."""
    job = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    return OmegaConf.to_container(job, resolve=True, throw_on_missing=True)
