"""Checks of a training config before any data is loaded or rendered: types and ranges of the keys users
change most, options that the data or model class does not take, the network's depth against the input
size, and the checkpoint to resume (``ckpt_path=last`` finds the latest run of the same experiment).

Each problem is a :class:`~seaSky.errors.ConfigError` or :class:`~seaSky.errors.CheckpointError` naming the
key or file, so ``python -m seaSky.train`` ends with one line instead of a traceback after data loading.
"""

from __future__ import annotations

import inspect
import logging
import zipfile
from pathlib import Path

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from seaSky.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)

# key -> (type, lowest value allowed); None: the key may be null
NUMBERS: dict[str, tuple[type, float | None]] = {
    "trainer.max_epochs": (int, -1),
    "trainer.min_epochs": (int, 0),
    "trainer.check_val_every_n_epoch": (int, 1),
    "trainer.log_every_n_steps": (int, 1),
    "data.batch_size": (int, 1),
    "data.num_workers": (int, 0),
    "model.depth": (int, 1),
    "model.base_channels": (int, 1),
    "model.dropout": (float, 0.0),
    "model.threshold": (float, 0.0),
    "model.optimizer.lr": (float, 0.0),
    "model.optimizer.weight_decay": (float, 0.0),
}
POSITIVE = {"model.optimizer.lr"}  # > its lowest value, not >=
AT_MOST_ONE = {"model.dropout", "model.threshold"}


def check_train_config(cfg: DictConfig) -> None:
    """Raise ConfigError for the first config problem found (see the module docstring)."""
    for key, (kind, lowest) in NUMBERS.items():
        _check_number(cfg, key, kind, lowest)
    for group in ("data", "model"):
        _check_options(cfg, group)
    _check_depth(cfg)


def _check_number(cfg: DictConfig, key: str, kind: type, lowest: float | None) -> None:
    value = OmegaConf.select(cfg, key, default=None)
    if value is None:
        return
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        ok_type = isinstance(value, int) and not isinstance(value, bool)
    if not ok_type:
        raise ConfigError(f"{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    if lowest is not None and (value < lowest or (key in POSITIVE and value <= lowest)):
        relation = ">" if key in POSITIVE else ">="
        raise ConfigError(f"{key} must be {relation} {lowest:g}, got {value!r}")
    if key in AT_MOST_ONE and value > 1:
        raise ConfigError(f"{key} must be <= 1, got {value!r}")


def _check_options(cfg: DictConfig, group: str) -> None:
    """Every key of ``cfg.<group>`` must be a parameter of its ``_target_`` class (e.g. ``data.n``, set by
    an experiment made for synthetic data, on ``data=folder``)."""
    node = cfg.get(group)
    if not node or "_target_" not in node:
        return
    try:
        target = get_class(node._target_)
    except Exception as err:
        raise ConfigError(f"{group}._target_: cannot import {node._target_!r} ({err})") from None
    params = _parameters(target)
    if params is None:  # takes **kwargs it does not pass on: anything goes
        return
    unknown = sorted(k for k in node if not str(k).startswith("_") and k not in params)
    if unknown:
        keys = ", ".join(f"{group}.{k}" for k in unknown)
        raise ConfigError(
            f"{keys}: not an option of {target.__name__} ({group}={_choice(cfg, group)}); an experiment "
            f"made for other {group} sets it? Options: {sorted(params)}"
        )


def _parameters(cls: type) -> set[str] | None:
    """Keyword parameters of ``cls`` and of the bases it passes ``**kwargs`` to; None when unknowable."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        signature = inspect.signature(vars(klass)["__init__"])
        names |= {
            n for n, p in signature.parameters.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
        if not any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
            return names - {"self"}
        if klass.__module__.split(".")[0] != "seaSky":
            return None
    return None


def _choice(cfg: DictConfig, group: str) -> str:
    """The option of ``group`` this run was composed with (``folder``, ``synthetic``, ...)."""
    from hydra.core.hydra_config import HydraConfig

    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    return str(choices.get(group, "?"))


def _check_depth(cfg: DictConfig) -> None:
    """Each level of the U-Net halves the input: the input must be at least 2**depth pixels each way."""
    depth = OmegaConf.select(cfg, "model.depth", default=None)
    size = OmegaConf.select(cfg, "data.image_size", default=None)
    if not isinstance(depth, int) or size is None or OmegaConf.select(cfg, "model.arch") != "unet":
        return
    if len(size) != 2 or not all(isinstance(v, int) for v in size):
        raise ConfigError(f"data.image_size must be [height, width] integers, got {list(size)}")
    if min(size) < 2**depth:
        raise ConfigError(
            f"model.depth={depth} halves the input {depth} times: data.image_size {list(size)} must be at "
            f"least {2**depth} pixels each way (lower model.depth or raise data.image_size)"
        )


def resolve_ckpt_path(ckpt_path: str | None, run_dir: Path, experiment: str | None) -> str | None:
    """The checkpoint to resume: ``last`` -> the newest ``checkpoints/last.ckpt`` of an earlier run of the
    same ``experiment`` in the runs folder beside ``run_dir``; a path is checked to be a readable
    checkpoint. Raises CheckpointError naming the file (or saying there is no earlier run)."""
    if not ckpt_path:
        return None
    if str(ckpt_path) == "last":
        path = _latest_last_ckpt(run_dir, experiment)
        log.info("ckpt_path=last: resuming %s", path)
    else:
        path = Path(ckpt_path)
    check_checkpoint_file(path)
    return str(path)


def _latest_last_ckpt(run_dir: Path, experiment: str | None) -> Path:
    runs_root = run_dir.parent.parent  # outputs/<date>/<time>
    candidates = []
    for ckpt in runs_root.glob("*/*/checkpoints/last.ckpt"):
        if ckpt.parent.parent.resolve() == run_dir.resolve():
            continue
        if _experiment_of(ckpt.parent.parent) == experiment:
            candidates.append(ckpt)
    if not candidates:
        which = f"experiment={experiment}" if experiment else "this config (no experiment)"
        raise CheckpointError(
            f"ckpt_path=last: no earlier run of {which} with checkpoints/last.ckpt under {runs_root}; give "
            "the checkpoint's path instead"
        )
    return max(candidates, key=lambda p: p.stat().st_mtime)


def _experiment_of(run: Path) -> str | None:
    """The ``experiment`` choice a run was started with (from its .hydra/hydra.yaml), or None."""
    try:
        hydra_cfg = OmegaConf.load(run / ".hydra" / "hydra.yaml")
    except Exception:
        return None
    value = OmegaConf.select(hydra_cfg, "hydra.runtime.choices.experiment", default=None)
    return None if value in (None, "null") else str(value)


def check_is_file(path: Path) -> None:
    """Raise CheckpointError unless ``path`` is a file (a folder or a missing path, said as such)."""
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")


def check_checkpoint_file(path: Path) -> None:
    """A Lightning checkpoint file exists and is a complete zip archive (torch.save's format); raise
    CheckpointError naming it otherwise. Cheap: it reads the archive's index, not the tensors."""
    check_is_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or not a PyTorch file): {err}"
        ) from None
    if bad is not None or not any(name.endswith("data.pkl") for name in names):
        raise CheckpointError(
            f"{path}: not a readable checkpoint (damaged entry {bad or 'data.pkl missing'})"
        )
