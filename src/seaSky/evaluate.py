"""Test a checkpoint on a data split:
``python -m seaSky.evaluate [ckpt_path=PATH] [data=folder data.root=ROOT]``.

Without ``ckpt_path`` (or with ``ckpt_path=pretrained``): the model shipped in the package, as predict.

It runs Lightning's test loop over the module's own test step, so its Dice, accuracy and IoU are those
of ``seaSky.train``'s test on the same split and precision (over all pixels of the split, at the
network's input size; the loss too at the same batch size, as the Dice loss is taken per batch), with
the horizon errors at each frame's own size where the data has horizon ground truth. Writes
``results.json``, ``per_image.csv`` and ``worst.png`` (the images with the most wrong pixels) into the
run dir, and for rendered data (a ``meta.csv`` with scene columns) ``breakdown.csv`` and
``breakdown.md``: the wrong pixels by kind of scene (:mod:`seaSky.breakdown`). ``worst.png`` shows the
test step's own predictions (the network in eval mode, at the run's precision), so its pictures and pixel
counts are those of ``per_image.csv``. A run dir that already holds any of them (``hydra.run.dir`` of an
earlier run) is refused unless ``overwrite=true``: then they are replaced once the new ones are written
(and those this run does not write again are deleted then); files seaSky did not write are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hydra
import lightning as L
import numpy as np
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, open_dict

from seaSky.breakdown import error_breakdown, scene_meta, write_breakdown
from seaSky.callbacks import PerImageScores
from seaSky.cli import run_cli, typed_text
from seaSky.config import instantiate, register_resolvers, use_trained_input
from seaSky.errors import CheckpointError, exit_on_error
from seaSky.horizon import summarize_errors
from seaSky.io import earlier_outputs, record_outputs, remove_outputs, write_csv, write_json
from seaSky.model.checkpoint import load_trained
from seaSky.model.module import SeaSkyModule
from seaSky.paths import CONFIG_DIR
from seaSky.pretrained import resolve_checkpoint
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


@dataclass(frozen=True)
class Shown:
    """One image of worst.png: the test step's input, truth and prediction, and its wrong pixels."""

    wrong_px: int
    position: int  # in the test split: ties keep the split's order
    stem: str
    image: np.ndarray  # (H, W) at the network's input size, as the network saw it
    truth: np.ndarray  # (H, W) 0/1
    pred: np.ndarray  # (H, W) 0/1


class WorstImages(Callback):
    """Keeps the ``n`` test images with the most wrong pixels with the test step's own predictions (the
    ones per_image.csv counts: the network in eval mode, at the run's precision), for worst.png."""

    def __init__(self, n: int) -> None:
        self.n = max(0, int(n))
        self.kept: list[Shown] = []
        self._seen = 0

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: dict,
        batch: dict,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        preds, truths = outputs["preds"].cpu(), batch["mask"].long().cpu()
        images = batch["image"].float().cpu()
        for i, stem in enumerate(batch["stem"]):
            wrong = int((preds[i] != truths[i]).sum())
            picture, truth, pred = images[i, 0].numpy(), truths[i, 0].numpy(), preds[i, 0].numpy()
            self.kept.append(Shown(wrong, self._seen, str(stem), picture, truth, pred))
            self._seen += 1
        self.kept = sorted(self.kept, key=lambda s: (-s.wrong_px, s.position))[: self.n]


def evaluate(
    module: SeaSkyModule,
    datamodule: L.LightningDataModule,
    out_dir: Path = Path("."),
    n_worst: int = 8,
    device: str = "cpu",
    precision: str = "32-true",
    earlier: Sequence[Path] = (),
) -> dict:
    """Test ``module`` on ``datamodule``'s test split; write results.json, per_image.csv, worst.png
    and, for rendered data, the breakdown by kind of scene into ``out_dir``; return the results.

    ``earlier``: an earlier run's outputs in ``out_dir`` (overwrite=true); those this run does not write
    again are deleted once its own are written, never before.
    """
    scores, worst = PerImageScores(), WorstImages(n_worst)
    trainer = L.Trainer(
        accelerator=ACCELERATORS.get(device, device),
        devices=1,
        precision=precision,
        logger=False,
        callbacks=[scores, worst],
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
    written = [write_csv(out_dir / "per_image.csv", scores.rows, PER_IMAGE_COLUMNS)]
    meta = scene_meta(datamodule.root)
    unmatched = sum(str(row["stem"]) not in meta for row in scores.rows)
    if meta and unmatched < len(scores.rows):
        if unmatched:
            log.warning("%d test images have no row in meta.csv: left out of breakdown.md", unmatched)
        write_breakdown(out_dir, error_breakdown(scores.rows, meta))
        written += [out_dir / "breakdown.csv", out_dir / "breakdown.md"]
    if worst.kept:
        written.append(plot_worst(worst.kept, out_dir / "worst.png"))
    written.append(write_json(out_dir / "results.json", results))
    remove_outputs([path for path in earlier if path.name not in {p.name for p in written}])
    return results


def plot_worst(shown: Sequence[Shown], path: Path) -> Path:
    """worst.png: image, truth, prediction and errors of each of ``shown``."""
    return plot_predictions(
        np.stack([s.image for s in shown]),
        np.stack([s.truth for s in shown]),
        np.stack([s.pred for s in shown]),
        path,
        names=[s.stem for s in shown],
    )


def checkpoint_path(ckpt_path: str | Path | None) -> Path:
    """The .ckpt that ``ckpt_path`` names (None, "" or ``pretrained``: the shipped model); CheckpointError for
    an .onnx file."""
    path = resolve_checkpoint(None if ckpt_path is None else str(ckpt_path))
    if path.suffix.lower() == ".onnx":
        raise CheckpointError(f"{path}: evaluate needs the .ckpt of seaSky.train, not an .onnx")
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="evaluate")
def main(cfg: DictConfig) -> dict:
    """Hydra entry point: the checkpoint's input size and normalisation override the data config."""
    with exit_on_error(log):
        # an earlier run's outputs in the run dir: refused before any loading, replaced only with overwrite
        earlier = earlier_outputs(cfg.paths.output_dir, OUTPUTS, cfg.overwrite, other="hydra.run.dir")
        from seaSky.review import check_review, review_after_run  # plotly loads only for the page

        check_review(cfg.paths.output_dir, cfg.review)
        module, ckpt = load_trained(checkpoint_path(typed_text(cfg, "ckpt_path")))
        use_trained_input(cfg.data, ckpt)
        with open_dict(cfg):
            cfg.data.batch_size = cfg.batch_size
        datamodule = instantiate(cfg.data, augment=None)
        out_dir = Path(cfg.paths.output_dir)
        record_outputs(out_dir, OUTPUTS)
        results = evaluate(module, datamodule, out_dir, cfg.n_worst, cfg.device, cfg.precision, earlier)
        review_after_run(out_dir, cfg.review, cfg.overwrite)
    log.info("Results: %s", {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()})
    log.info("Run dir: %s", out_dir)
    return results


if __name__ == "__main__":
    run_cli(main)
