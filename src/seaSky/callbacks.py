"""Lightning callbacks of seaSky."""

from __future__ import annotations

import logging
import math
import signal
import time
from pathlib import Path

import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from seaSky.errors import TrainingError
from seaSky.io import write_csv
from seaSky.model.module import segmentation_metrics
from seaSky.viz import plot_curves, plot_predictions

HISTORY_KEYS = (
    "train/loss",
    "train/dice",
    "train/acc",
    "train/iou",
    "val/loss",
    "val/dice",
    "val/acc",
    "val/iou",
    "val/horizon_dy_median_px",
    "val/horizon_dangle_median_deg",
)


class TrainingClock(Callback):
    """Training throughput of ``fit``: seconds from each run of training batches' first batch start to
    the next validation run or epoch end (data loading included; validation, checkpointing and the
    epoch-end callbacks excluded, so it goes first among the callbacks), and the images of the batches
    trained in that time (partial epochs, ``limit_train_batches`` and resumed runs included)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.images = 0
        self._start: float | None = None

    def _pause(self) -> None:
        if self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    @property
    def images_per_s(self) -> float | None:
        return self.images / self.seconds if self.seconds > 0 and self.images else None

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: dict, batch_idx: int
    ) -> None:
        if self._start is None:
            self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: object, batch: dict, batch_idx: int
    ) -> None:
        self.images += int(batch["image"].shape[0])

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._pause()

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._pause()


log = logging.getLogger(__name__)


class Interruption(Callback):
    """On Ctrl-C (SIGINT) or SIGTERM (what schedulers send) during ``fit``: save a resumable checkpoint
    (``<dirpath>/last.ckpt``) and remember the signal, so that ``seaSky.train`` writes results.json with
    ``"status": "interrupted"`` and exits 130 / 143."""

    def __init__(self, dirpath: str | Path) -> None:
        self.dirpath = Path(dirpath)
        self.signal: signal.Signals | None = None
        self.ckpt_path: Path | None = None

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):
            self.signal = signal.SIGINT
        elif isinstance(exception, SIGTERMException):
            self.signal = signal.SIGTERM
        else:
            return
        if trainer.state.fn != TrainerFn.FITTING:
            return
        self.ckpt_path = self.dirpath / "last.ckpt"
        trainer.save_checkpoint(self.ckpt_path)  # atomic (AtomicCheckpointIO): a good last.ckpt stays
        log.warning(
            "%s: saved %s (resume with ckpt_path=%s)", self.signal.name, self.ckpt_path, self.ckpt_path
        )


class FiniteLossGuard(Callback):
    """Stop training at the first non-finite training loss with a clear error; the checkpoints written so
    far (``<dirpath>/last.ckpt``: the last good epoch) stay as they are."""

    def __init__(self, dirpath: str | Path) -> None:
        self.dirpath = Path(dirpath)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: object, batch: dict, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            last = self.dirpath / "last.ckpt"
            kept = (
                f"the last good checkpoint is {last}" if last.is_file() else "no checkpoint was written yet"
            )
            raise TrainingError(
                f"non-finite training loss ({float(loss.detach().float().mean())}) at epoch "
                f"{trainer.current_epoch}, batch {batch_idx}: lower model.optimizer.lr, or use "
                f"trainer.precision=32-true, or check the data; {kept}"
            )


class EpochHistory(Callback):
    """Keeps one row of epoch metrics per epoch and writes them to ``<dirpath>/metrics.csv``.

    Epoch 0 is the validation run before any training (``trainer.validate`` before ``fit``); epoch k
    is the state after k training epochs. Losses are means over all images of an epoch. The rows are
    saved in checkpoints, so a resumed run continues the same file; only global rank 0 writes it.
    """

    def __init__(
        self, dirpath: str | Path, filename: str = "metrics.csv", curves: str = "curves.png"
    ) -> None:
        self.path = Path(dirpath) / filename
        self.curves_path = Path(dirpath) / curves if curves else None
        self.rows: list[dict[str, float]] = []

    def _record(self, trainer: Trainer, epoch: int) -> None:
        row: dict = {"epoch": epoch}
        for key in HISTORY_KEYS:
            value = trainer.callback_metrics.get(key)
            row[key] = float(value) if value is not None else math.nan
        self.rows.append(row)
        if trainer.is_global_zero:
            self._write()

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        # a resumed run continues the saved rows; testing the best checkpoint after fit restores an earlier,
        # shorter history, which must not cut this run's short
        if len(state_dict["rows"]) >= len(self.rows):
            self.rows = list(state_dict["rows"])

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        # the x axis for loggers: Lightning's own "epoch" is 0 both before training and during epoch 1
        pl_module.log("trained_epochs", float(epoch_of(trainer)), sync_dist=True)  # equal on all ranks
        if trainer.state.fn == TrainerFn.VALIDATING and not self.rows:
            self._record(trainer, epoch=0)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer, epoch=trainer.current_epoch + 1)

    def _write(self) -> None:
        rounded = [
            {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()} for row in self.rows
        ]
        write_csv(self.path, rounded, ["epoch", *HISTORY_KEYS])
        if self.curves_path is not None:
            plot_curves(
                self.rows, self.curves_path, title=f"{self.path.parent.name}: epoch 0 = before training"
            )

    def table(self) -> str:
        """The history as a small aligned text table."""
        cols = ["epoch", "train/loss", "val/loss", "val/dice", "val/acc"]
        lines = ["  ".join(f"{c:>10}" for c in cols)]
        for row in self.rows:
            lines.append("  ".join(f"{row[c]:>10.4f}" if c != "epoch" else f"{row[c]:>10d}" for c in cols))
        return "\n".join(lines)


class PredictionGallery(Callback):
    """Predictions on the first ``n_images`` validation images: ``<dirpath>/predictions.png`` (image /
    ground truth / prediction / errors) after every validation of fit and after testing (then with the
    tested, i.e. best, weights), and the same images per epoch to W&B when a WandbLogger is attached."""

    def __init__(self, dirpath: str | Path, n_images: int = 5, filename: str = "predictions.png") -> None:
        self.path = Path(dirpath) / filename
        self.n_images = n_images

    def _samples(self, trainer: Trainer) -> dict:
        dataset = trainer.datamodule.val_dataloader().dataset
        picked = [dataset[i] for i in range(min(self.n_images, len(dataset)))]
        return {
            "image": torch.stack([s["image"] for s in picked]),
            "mask": torch.stack([s["mask"] for s in picked]),
            "stem": [s["stem"] for s in picked],
        }

    @torch.no_grad()
    def _render(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or trainer.datamodule is None:
            return
        batch = self._samples(trainer)
        was_training = pl_module.training
        pl_module.eval()
        preds = pl_module.predict_mask(batch["image"].to(pl_module.device)).cpu().numpy()[:, 0]
        pl_module.train(was_training)
        images, truths = batch["image"].numpy()[:, 0], batch["mask"].numpy()[:, 0]
        plot_predictions(images, truths, preds, self.path, names=batch["stem"])
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                log_wandb_predictions(logger, images, truths, preds, batch["stem"], epoch_of(trainer))

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._render(trainer, pl_module)

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._render(trainer, pl_module)


class PerImageScores(Callback):
    """Per-image rows of a test run (``seaSky.evaluate``'s per_image.csv) from the test step's outputs:
    wrong pixels, Dice, accuracy and IoU (the same torchmetrics as the epoch's), sea shares, and the
    horizon error where the data has horizon truth. An image without sea predicted without sea has Dice
    and IoU 1 (torchmetrics gives 0 for 0/0)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.horizon_errors: list[dict] = []
        self._metrics = segmentation_metrics()

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: dict,
        batch: dict,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        preds, truths = outputs["preds"].cpu(), batch["mask"].long().cpu()
        for i, stem in enumerate(batch["stem"]):
            row = {"stem": stem, **self._scores(preds[i], truths[i])}
            error = outputs["horizon_errors"].get(i)
            if error is not None:  # truth from ROOT/meta.csv, in the frame's own pixels
                self.horizon_errors.append(error)
                row.update(
                    horizon_status=error["status"],
                    horizon_dy_px=error["dy_px"],
                    horizon_dangle_deg=error["dangle_deg"],
                )
            self.rows.append(row)

    def _scores(self, pred: torch.Tensor, truth: torch.Tensor) -> dict:
        self._metrics.reset()
        self._metrics.update(pred[None], truth[None])
        scores = {key: float(value) for key, value in self._metrics.compute().items()}
        if not truth.any() and not pred.any():
            scores.update(dice=1.0, iou=1.0)
        return {
            "wrong_px": int((pred != truth).sum()),
            **scores,
            "sea_true": float(truth.float().mean()),
            "sea_pred": float(pred.float().mean()),
        }


def epoch_of(trainer: Trainer) -> int:
    """Epochs trained so far: 0 before training (and outside fit), k after k training epochs."""
    if trainer.state.fn != TrainerFn.FITTING:
        return trainer.current_epoch if trainer.state.fn == TrainerFn.TESTING else 0
    return trainer.current_epoch + 1


def log_wandb_predictions(
    logger: WandbLogger, images: np.ndarray, truths: np.ndarray, preds: np.ndarray, stems: list, epoch: int
) -> None:
    """Log images with ground-truth and predicted masks (wandb.Image with masks) at ``epoch``."""
    import wandb

    labels = {0: "not sea", 1: "sea"}
    pictures = [
        wandb.Image(
            (np.clip(image, 0, 1) * 255).astype(np.uint8),
            masks={
                "ground_truth": {"mask_data": truth.astype(np.uint8), "class_labels": labels},
                "prediction": {"mask_data": pred.astype(np.uint8), "class_labels": labels},
            },
            caption=stem,
        )
        for image, truth, pred, stem in zip(images, truths, preds, stems, strict=True)
    ]
    logger.experiment.log({"val/predictions": pictures, "trained_epochs": epoch})
