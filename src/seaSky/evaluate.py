"""Test a checkpoint on a test split:
``python -m seaSky.evaluate ckpt_path=PATH [data=folder data.root=ROOT]``.

Writes ``results.json`` (Dice, accuracy, IoU and loss over all pixels of the split, at the network's
input size; horizon errors at each frame's own size where the data has horizon ground truth),
``per_image.csv`` and ``worst.png`` (the images with the most wrong pixels) into the run dir.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, open_dict
from torchmetrics import MetricCollection

from seaSky.config import register_resolvers
from seaSky.errors import CheckpointError, exit_on_error
from seaSky.horizon import probability_map_error, summarize_errors
from seaSky.inference import Predictor
from seaSky.io import write_csv, write_json
from seaSky.model.module import segmentation_metrics
from seaSky.paths import CONFIG_DIR
from seaSky.viz import plot_predictions

log = logging.getLogger(__name__)
register_resolvers()

PER_IMAGE_COLUMNS = (
    "stem", "wrong_px", "dice", "acc", "iou", "sea_true", "sea_pred", "horizon_status", "horizon_dy_px",
    "horizon_dangle_deg",
)  # fmt: skip


def _image_scores(metrics: MetricCollection, pred: torch.Tensor, truth: torch.Tensor) -> dict:
    """One image's Dice, accuracy and IoU (the same torchmetrics as training), wrong pixels, sea shares.

    An image without sea, predicted without sea, has Dice and IoU 1 (torchmetrics gives 0 for 0/0).
    """
    metrics.reset()
    metrics.update(pred[None], truth[None])
    scores = {key: float(value) for key, value in metrics.compute().items()}
    if not truth.any() and not pred.any():
        scores.update(dice=1.0, iou=1.0)
    return {
        "wrong_px": int((pred != truth).sum()),
        **scores,
        "sea_true": float(truth.float().mean()),
        "sea_pred": float(pred.float().mean()),
    }


def evaluate(
    predictor: Predictor, datamodule, batch_size: int = 32, n_worst: int = 8, out_dir: Path = Path(".")
) -> dict:
    """Evaluate on ``datamodule``'s test split; write results.json, per_image.csv, worst.png into out_dir."""
    datamodule.setup("test")
    dataset = datamodule.datasets["test"]
    metrics, image_metrics, criterion = (
        segmentation_metrics(),
        segmentation_metrics(),
        predictor.module.criterion,
    )
    rows, horizon_errors, losses = [], [], []
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
            images = torch.stack([item["image"] for item in items]).to(predictor.device)
            masks = torch.stack([item["mask"] for item in items]).to(predictor.device)
            logits = predictor.module(images).float()
            losses.append((float(criterion(logits, masks.float())), len(items)))
            probs = torch.sigmoid(logits)
            preds = (probs > predictor.threshold).long()
            metrics.update(preds, masks.long())
            for i, item in enumerate(items):
                row = {
                    "stem": item["stem"],
                    **_image_scores(image_metrics, preds[i].cpu(), masks[i].long().cpu()),
                }
                if item.get("horizon_known"):  # truth from ROOT/meta.csv, in the frame's own pixels
                    error = probability_map_error(
                        probs[i, 0].cpu().numpy(),
                        item["size"].tolist(),
                        item["horizon"].tolist(),
                        predictor.threshold,
                    )
                    horizon_errors.append(error)
                    row.update(
                        {
                            "horizon_status": error["status"],
                            "horizon_dy_px": error["dy_px"],
                            "horizon_dangle_deg": error["dangle_deg"],
                        }
                    )
                rows.append(row)
    total = sum(n for _, n in losses)
    results = {f"test/{k}": float(v) for k, v in metrics.compute().items()}
    results["test/loss"] = sum(loss * n for loss, n in losses) / total
    if horizon_errors:
        results.update({f"test/horizon_{k}": v for k, v in summarize_errors(horizon_errors).items()})
    results.update({"n_images": total, "data_root": str(datamodule.root)})
    write_json(out_dir / "results.json", results)
    write_csv(out_dir / "per_image.csv", rows, PER_IMAGE_COLUMNS)
    _plot_worst(dataset, predictor, rows, n_worst, out_dir / "worst.png")
    return results


def _plot_worst(dataset, predictor: Predictor, rows: list[dict], n: int, path: Path) -> None:
    order = sorted(range(len(rows)), key=lambda i: rows[i]["wrong_px"], reverse=True)[:n]
    images = torch.stack([dataset[i]["image"] for i in order])
    with torch.no_grad():
        preds = predictor.module.predict_mask(images.to(predictor.device)).cpu().numpy()[:, 0]
    truths = np.stack([dataset[i]["mask"][0].numpy() for i in order])
    plot_predictions(images.numpy()[:, 0], truths, preds, path, names=[rows[i]["stem"] for i in order])


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="evaluate")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point: the checkpoint's input size and normalisation override the data config."""
    with exit_on_error(log):
        if str(cfg.ckpt_path or "").lower().endswith(".onnx"):
            raise CheckpointError(f"{cfg.ckpt_path}: evaluate needs the .ckpt of seaSky.train, not an .onnx")
        predictor = Predictor.from_checkpoint(cfg.ckpt_path, device=cfg.device)
        with open_dict(cfg):
            cfg.data.image_size = list(predictor.image_size)
            if predictor.normalize:
                cfg.data.normalize = dict(predictor.normalize)
        datamodule = hydra.utils.instantiate(cfg.data, augment=None)
        datamodule.prepare_data()
        out_dir = Path(cfg.paths.output_dir)
        results = evaluate(predictor, datamodule, cfg.batch_size, cfg.n_worst, out_dir)
    log.info("Results: %s", {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()})
    log.info("Run dir: %s", out_dir)
    return results


if __name__ == "__main__":
    main()
