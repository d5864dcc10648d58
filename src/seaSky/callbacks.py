"""Lightning callbacks of seaSky."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn

from seaSky.io import atomic_write

HISTORY_KEYS = (
    "train/loss",
    "train/dice",
    "train/acc",
    "train/iou",
    "val/loss",
    "val/dice",
    "val/acc",
    "val/iou",
)


class EpochHistory(Callback):
    """Keeps one row of epoch metrics per epoch and writes them to ``<dirpath>/metrics.csv``.

    Epoch 0 is the validation run before any training (``trainer.validate`` before ``fit``); epoch k
    is the state after k training epochs. Losses are means over all images of an epoch. The rows are
    saved in checkpoints, so a resumed run continues the same file; only global rank 0 writes it.
    """

    def __init__(self, dirpath: str | Path, filename: str = "metrics.csv") -> None:
        self.path = Path(dirpath) / filename
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
        self.rows = list(state_dict["rows"])

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.state.fn == TrainerFn.VALIDATING and not self.rows:
            self._record(trainer, epoch=0)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer, epoch=trainer.current_epoch + 1)

    def _write(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch", *HISTORY_KEYS])
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        atomic_write(self.path, lambda tmp: tmp.write_text(buffer.getvalue()))

    def table(self) -> str:
        """The history as a small aligned text table."""
        cols = ["epoch", "train/loss", "val/loss", "val/dice", "val/acc"]
        lines = ["  ".join(f"{c:>10}" for c in cols)]
        for row in self.rows:
            lines.append("  ".join(f"{row[c]:>10.4f}" if c != "epoch" else f"{row[c]:>10d}" for c in cols))
        return "\n".join(lines)
