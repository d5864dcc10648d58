"""Test a checkpoint on a data split:
``python -m seaSky.evaluate ckpt_path=PATH [data=folder data.root=ROOT]``.

It runs Lightning's test loop over the module's own test step, so its Dice, accuracy and IoU are those
of ``seaSky.train``'s test on the same split and precision (over all pixels of the split, at the
network's input size; the loss too at the same batch size, as the Dice loss is taken per batch), with
the horizon errors at each frame's own size where the data has horizon ground truth. Writes
``results.json``, ``per_image.csv`` and ``worst.png`` (the images with the most wrong pixels) into the
run dir, and for rendered data (a ``meta.csv`` with scene columns) ``breakdown.csv`` and
``breakdown.md``: the wrong pixels by kind of scene (:mod:`seaSky.breakdown`). A run dir that already
holds any of them (``hydra.run.dir`` of an earlier run) is refused unless ``overwrite=true``, which
deletes those files first.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, open_dict

from seaSky.breakdown import error_breakdown, scene_meta, write_breakdown
from seaSky.callbacks import PerImageScores
from seaSky.cli import run_cli
from seaSky.config import instantiate, register_resolvers, use_trained_input
from seaSky.errors import CheckpointError, exit_on_error
from seaSky.horizon import summarize_errors
from seaSky.io import earlier_outputs, record_outputs, remove_outputs, write_csv, write_json
from seaSky.model.checkpoint import load_trained
from seaSky.model.module import SeaSkyModule
from seaSky.paths import CONFIG_DIR
from seaSky.viz import plot_predictions

log = logging.getLogger(__name__)
register_resolvers()

PER_IMAGE_COLUMNS = (
    "stem", "wrong_px", "dice", "acc", "iou", "sea_true", "sea_pred", "horizon_status", "horizon_dy_px",
    "horizon_dangle_deg",
)  # fmt: skip
ACCELERATORS = {"cpu": "cpu", "cuda": "gpu"}
# all that evaluate writes into the run dir
OUTPUTS = ("results.json", "per_image.csv", "worst.png", "breakdown.csv", "breakdown.md")


def evaluate(
    module: SeaSkyModule,
    datamodule: L.LightningDataModule,
    out_dir: Path = Path("."),
    n_worst: int = 8,
    device: str = "cpu",
    precision: str = "32-true",
) -> dict:
    """Test ``module`` on ``datamodule``'s test split; write results.json, per_image.csv, worst.png
    and, for rendered data, the breakdown by kind of scene into ``out_dir``; return the results."""
    scores = PerImageScores()
    trainer = L.Trainer(
        accelerator=ACCELERATORS.get(device, device),
        devices=1,
        precision=precision,
        logger=False,
        callbacks=[scores],
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.test(module, datamodule=datamodule, verbose=False)
    logged = trainer.callback_metrics
    results = {f"test/{k}": float(logged[f"test/{k}"]) for k in ("acc", "dice", "iou", "loss")}
    if scores.horizon_errors:
        summary = summarize_errors(scores.horizon_errors)
        results.update({f"test/horizon_{k}": v for k, v in summary.items()})
    split = getattr(datamodule, "split", "test")  # data.split=all: every image with a mask
    results.update({"n_images": len(scores.rows), "data_root": str(datamodule.root), "split": split})
    write_json(out_dir / "results.json", results)
    write_csv(out_dir / "per_image.csv", scores.rows, PER_IMAGE_COLUMNS)
    meta = scene_meta(datamodule.root)
    unmatched = sum(str(row["stem"]) not in meta for row in scores.rows)
    if meta and unmatched < len(scores.rows):
        if unmatched:
            log.warning("%d test images have no row in meta.csv: left out of breakdown.md", unmatched)
        write_breakdown(out_dir, error_breakdown(scores.rows, meta))
    _plot_worst(datamodule.datasets["test"], module, scores.rows, n_worst, out_dir / "worst.png")
    return results


def _plot_worst(dataset, module: SeaSkyModule, rows: list[dict], n: int, path: Path) -> None:
    order = sorted(range(len(rows)), key=lambda i: rows[i]["wrong_px"], reverse=True)[:n]
    images = torch.stack([dataset[i]["image"] for i in order])
    with torch.no_grad():
        preds = module.predict_mask(images.to(module.device)).cpu().numpy()[:, 0]
    truths = np.stack([dataset[i]["mask"][0].numpy() for i in order])
    plot_predictions(images.numpy()[:, 0], truths, preds, path, names=[rows[i]["stem"] for i in order])


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="evaluate")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point: the checkpoint's input size and normalisation override the data config."""
    with exit_on_error(log):
        # an earlier run's outputs in the run dir: refused before any loading, deleted only with overwrite
        stale = earlier_outputs(cfg.paths.output_dir, OUTPUTS, cfg.overwrite, other="hydra.run.dir")
        if str(cfg.ckpt_path or "").lower().endswith(".onnx"):
            raise CheckpointError(f"{cfg.ckpt_path}: evaluate needs the .ckpt of seaSky.train, not an .onnx")
        module, ckpt = load_trained(cfg.ckpt_path)
        use_trained_input(cfg.data, ckpt)
        with open_dict(cfg):
            cfg.data.batch_size = cfg.batch_size
        datamodule = instantiate(cfg.data, augment=None)
        out_dir = Path(cfg.paths.output_dir)
        remove_outputs(stale)
        record_outputs(out_dir, OUTPUTS)
        results = evaluate(module, datamodule, out_dir, cfg.n_worst, cfg.device, cfg.precision)
    log.info("Results: %s", {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()})
    log.info("Run dir: %s", out_dir)
    return results


if __name__ == "__main__":
    run_cli(main)
