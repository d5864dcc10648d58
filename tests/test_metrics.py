"""Dice, accuracy and IoU against values computed by hand on hand-made masks."""

import numpy as np
import pytest
import torch

from seaSky.data.folder import read_mask
from seaSky.model.module import SeaSkyLoss, SeaSkyModule, segmentation_metrics

# 4x4 target (sea = bottom 2 rows) and a prediction with 2 false positives and 1 false negative
TARGET = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1]])
PRED = torch.tensor([[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0]])
TP, FP, FN, TN = 7, 2, 1, 6


def _compute(pred: torch.Tensor, target: torch.Tensor) -> dict:
    metrics = segmentation_metrics()
    metrics.update(pred.view(1, 1, *pred.shape), target.view(1, 1, *target.shape))
    return {k: float(v) for k, v in metrics.compute().items()}


def test_metrics_match_hand_computed_values() -> None:
    m = _compute(PRED, TARGET)
    assert m["dice"] == pytest.approx(2 * TP / (2 * TP + FP + FN))  # 14/17
    assert m["acc"] == pytest.approx((TP + TN) / 16)  # 13/16
    assert m["iou"] == pytest.approx(TP / (TP + FP + FN))  # 7/10


def test_perfect_and_inverted_predictions() -> None:
    perfect = _compute(TARGET, TARGET)
    assert perfect == pytest.approx({"dice": 1.0, "acc": 1.0, "iou": 1.0})
    inverted = _compute(1 - TARGET, TARGET)
    assert inverted == pytest.approx({"dice": 0.0, "acc": 0.0, "iou": 0.0})


def test_metrics_aggregate_over_all_pixels_not_per_batch() -> None:
    metrics = segmentation_metrics()
    metrics.update(PRED.view(1, 1, 4, 4), TARGET.view(1, 1, 4, 4))
    metrics.update(TARGET.view(1, 1, 4, 4), TARGET.view(1, 1, 4, 4))  # second batch: perfect
    got = metrics.compute()
    tp, fp, fn = TP + 8, FP, FN
    assert float(got["dice"]) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert float(got["acc"]) == pytest.approx((TP + TN + 16) / 32)


def test_mask_stored_as_0_255_gives_the_same_metrics(tmp_path) -> None:
    import cv2

    path = tmp_path / "m.png"
    cv2.imwrite(str(path), (TARGET.numpy() * 255).astype(np.uint8))
    target = torch.from_numpy(read_mask(path)).long()
    assert _compute(PRED, target) == pytest.approx(_compute(PRED, TARGET))


def test_module_logs_epoch_metrics_over_all_pixels() -> None:
    """Through a real Trainer: two batches (PRED, then a perfect one) give the global values, not the
    mean of per-batch values."""
    import lightning as L
    from torch.utils.data import DataLoader

    preds = [PRED, TARGET]
    module = SeaSkyModule(depth=1, base_channels=2)
    module.net = _Replay([(p.float() * 2 - 1).view(1, 1, 4, 4) * 10 for p in preds])
    batches = [{"image": torch.zeros(1, 4, 4), "mask": TARGET.view(1, 4, 4).to(torch.uint8)}] * 2
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    (logged,) = trainer.validate(module, DataLoader(batches, batch_size=1), verbose=False)
    tp, fp, fn = TP + 8, FP, FN
    assert logged["val/dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn))  # 30/33, not (14/17 + 1) / 2
    assert logged["val/acc"] == pytest.approx((TP + TN + 16) / 32)
    assert logged["val/iou"] == pytest.approx(tp / (tp + fp + fn))


class _Replay(torch.nn.Module):
    """Returns the given logits, one tensor per call."""

    def __init__(self, outputs: list[torch.Tensor]) -> None:
        super().__init__()
        self.outputs = list(outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs.pop(0)


@pytest.mark.parametrize("name", ["bce", "dice", "bce_dice"])
def test_losses_rank_good_above_bad_predictions(name: str) -> None:
    loss = SeaSkyLoss(name)
    target = TARGET.view(1, 1, 4, 4).float()
    good = loss((target * 2 - 1) * 5, target)
    bad = loss((1 - target * 2) * 5, target)
    assert float(good) < float(bad)


def test_unknown_loss() -> None:
    with pytest.raises(ValueError, match="model.loss"):
        SeaSkyLoss("focal")
