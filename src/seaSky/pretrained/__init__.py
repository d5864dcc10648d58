"""The pretrained model shipped in the package (``model.ckpt``, with ``config.yaml`` and ``metrics.json``).

``make pretrained`` trains it: ``python -m seaSky.train experiment=pretrained`` (20000 scenes, best on a
GPU), ``experiment=pretrained_anneal`` from stage 1's best, ``experiment=pretrained_real2`` (the
real-camera scenes of ``preset=real2``) and ``experiment=pretrained_settle`` from that, and installs the
weighted average of the last three runs' best weights here with ``python -m seaSky.pretrained RUN_DIR ...
--weights ...``: weights and hyper-parameters only (no optimiser state), so it stays small. Every command
that takes a checkpoint uses it when no ``ckpt_path`` is given, or when it is ``pretrained``
(:func:`resolve_checkpoint`).
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


def average_state_dicts(state_dicts: list[dict], weights: list[float]) -> dict:
    """The weighted average of state dicts of one architecture (a "model soup": models fine-tuned from one
    start lie in one basin, and the average of their weights often keeps what each does well). Integer
    buffers (BatchNorm's step counters) are taken from the first."""
    import torch

    keys = list(state_dicts[0])
    for i, sd in enumerate(state_dicts[1:], start=2):
        if list(sd) != keys or any(sd[k].shape != state_dicts[0][k].shape for k in keys):
            raise DataError(f"checkpoint {i} of the average has other weights than the first: not one net")
    total = float(sum(weights))
    out = {}
    for key in keys:
        first = state_dicts[0][key]
        if not torch.is_floating_point(first):
            out[key] = first.clone()
            continue
        mean = sum(w / total * sd[key].double() for w, sd in zip(weights, state_dicts, strict=True))
        out[key] = mean.to(first.dtype)
    return out


def _member(source: str | Path) -> tuple[Path, dict | None, Path | None]:
    """A run dir (its best checkpoint, results and config) or a checkpoint file (``pretrained``: the shipped
    one; an installed model brings the metrics.json and config.yaml beside it): (checkpoint, results or
    None, config.yaml or None)."""
    path = resolve_checkpoint(source)
    if path.is_file():
        metrics, config = path.parent / "metrics.json", path.parent / "config.yaml"
        results = json.loads(metrics.read_text()) if metrics.is_file() else None
        return path, results, config if config.is_file() else None
    if not (path / "results.json").is_file():
        raise DataError(f"{path}: no results.json; is it the run dir of a finished seaSky.train run?")
    results = json.loads((path / "results.json").read_text())
    return Path(results["ckpt_best"]), results, path / ".hydra" / "config.yaml"


def install(
    sources: str | Path | list, target: Path = PRETRAINED_DIR, weights: list[float] | None = None
) -> Path:
    """Copy the best checkpoint of a training run (slimmed), its config and its results into ``target``; with
    several runs (or checkpoint files), the weighted average of their weights (the hyper-parameters of the
    first), the first run's config and each member's results."""
    import torch

    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    weights = [1.0] * len(sources) if weights is None else list(weights)
    if len(weights) != len(sources) or min(weights) < 0 or sum(weights) <= 0:
        raise DataError(f"weights {weights}: one non-negative weight per run ({len(sources)}), not all zero")
    members = [_member(s) for s in sources]  # everything is read before anything is written
    ckpts = [torch.load(ckpt, map_location="cpu", weights_only=True) for ckpt, _, _ in members]
    slim = {key: ckpts[0][key] for key in KEEP if key in ckpts[0]}
    if len(ckpts) > 1:
        slim["state_dict"] = average_state_dicts([c["state_dict"] for c in ckpts], weights)
    configs = [config for _, _, config in members if config is not None and config.is_file()]
    one_run = len(members) == 1 and resolve_checkpoint(sources[0]).is_dir()
    target.mkdir(parents=True, exist_ok=True)
    out = target / "model.ckpt"
    atomic_write(out, lambda tmp: torch.save(slim, tmp))
    if configs:
        shutil.copyfile(configs[0], target / "config.yaml")
    if one_run:
        results = {**members[0][1], "ckpt_best": "model.ckpt", "output_dir": Path(sources[0]).name}
    else:
        results = {"ckpt_best": "model.ckpt", "average_of": [
            {"source": str(s), "weight": w, "ckpt": str(ckpt), "results": res}
            for s, w, (ckpt, res, _) in zip(sources, weights, members, strict=True)]}  # fmt: skip
    atomic_write(target / "metrics.json", lambda tmp: tmp.write_text(json.dumps(results, indent=2) + "\n"))
    return out
