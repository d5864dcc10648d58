"""LightningModule: trains a sea/sky network with BCE / Dice losses and torchmetrics metrics."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from lightning import LightningModule
from lightning.pytorch.trainer.states import TrainerFn
from torch import nn
from torchmetrics import MaxMetric, MeanMetric, MetricCollection
from torchmetrics.classification import BinaryAccuracy, BinaryJaccardIndex
from torchmetrics.segmentation import DiceScore

from seaSky.errors import ConfigError
from seaSky.horizon import probability_map_error, summarize_errors
from seaSky.model.factory import build_net
from seaSky.model.unet import count_parameters

LOSSES = ("bce", "dice", "bce_dice")
FREEZE = ("none", "encoder")
STAGES = ("train", "val", "test")


def segmentation_metrics() -> MetricCollection:
    """Dice, pixel accuracy and IoU of the sea class, aggregated over all pixels of an epoch."""
    with warnings.catch_warnings():  # torchmetrics warns about a default we set explicitly
        warnings.filterwarnings("ignore", message="DiceScore metric currently defaults")
        dice = DiceScore(num_classes=1, average="micro", aggregation_level="global")
    return MetricCollection({"dice": dice, "acc": BinaryAccuracy(), "iou": BinaryJaccardIndex()})


class SeaSkyLoss(nn.Module):
    """BCE, Dice (smp.losses) or their sum, on logits against 0/1 float targets."""

    def __init__(self, name: str = "bce_dice") -> None:
        super().__init__()
        if name not in LOSSES:
            raise ConfigError(f"model.loss must be one of {LOSSES}, got {name!r}")
        self.bce = nn.BCEWithLogitsLoss() if "bce" in name else None
        self.dice = None
        if "dice" in name:
            import segmentation_models_pytorch as smp  # 1.5 s with timm: only where a loss is built

            self.dice = smp.losses.DiceLoss(mode="binary", from_logits=True)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = logits.new_zeros(())
        if self.bce is not None:
            loss = loss + self.bce(logits, target)
        if self.dice is not None:
            loss = loss + self.dice(logits, target)
        return loss


class SeaSkyModule(LightningModule):
    """Binary sea segmentation. The network is built from plain arguments, so a checkpoint restores
    itself: ``SeaSkyModule.load_from_checkpoint(path)``.

    Args:
        arch, in_channels, depth, base_channels, up, dropout, encoder: see
            :func:`seaSky.model.factory.build_net`.
        loss: ``"bce"``, ``"dice"`` or ``"bce_dice"``.
        optimizer: partial optimizer (``_partial_: true`` in config), called with the parameters.
        scheduler: optional partial LR scheduler, called with the optimizer; stepped once per epoch.
        threshold: probability above which a pixel counts as sea.
        channels_last: run the network in channels-last memory format (faster convolutions on CPUs
            with oneDNN and on tensor-core GPUs; results are the same up to float rounding).
        freeze: ``"none"``, or ``"encoder"``: the encoder (the down path) keeps its weights and its
            BatchNorm statistics, and only the decoder trains (fine-tuning on a few frames).
    """

    def __init__(
        self,
        arch: str = "unet",
        in_channels: int = 1,
        depth: int = 4,
        base_channels: int = 16,
        up: str = "transpose",
        dropout: float = 0.0,
        encoder: str = "resnet18",
        loss: str = "bce_dice",
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        threshold: float = 0.5,
        channels_last: bool = False,
        freeze: str = "none",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.net = build_net(
            arch=arch,
            in_channels=in_channels,
            depth=depth,
            base_channels=base_channels,
            up=up,
            dropout=dropout,
            encoder=encoder,
        )
        if freeze not in FREEZE:
            raise ConfigError(f"model.freeze must be one of {FREEZE}, got {freeze!r}")
        self.frozen = encoder_parts(self.net) if freeze == "encoder" else []  # a plain list: not submodules
        for part in self.frozen:
            part.requires_grad_(False)
        self.criterion = SeaSkyLoss(loss)
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.threshold = threshold
        self.channels_last = channels_last
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        # One metric set and one mean loss per stage ("train" can't be a ModuleDict key: nn.Module.train).
        self.metrics = nn.ModuleDict(
            {f"{stage}_": segmentation_metrics().clone(prefix=f"{stage}/") for stage in STAGES}
        )
        self.losses = nn.ModuleDict({f"{stage}_": MeanMetric() for stage in STAGES})
        self.horizon_errors: dict[str, list[dict]] = {"val": [], "test": []}
        self.val_dice_best = MaxMetric()
        self.val_dice_best.persistent(True)  # saved in checkpoints, so a resumed run keeps its best

    @property
    def num_parameters(self) -> int:
        return count_parameters(self.net)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Sea logits (N, 1, H, W) for images (N, 1, H, W)."""
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        return self.net(image)

    def predict_mask(self, image: torch.Tensor) -> torch.Tensor:
        """0/1 sea mask (N, 1, H, W) as uint8."""
        return (torch.sigmoid(self(image)) > self.threshold).to(torch.uint8)

    def _step(self, batch: dict, stage: str) -> dict:
        """The one step of training, validation, test and ``seaSky.evaluate``: loss, predictions, the
        stage's metrics and (not in training) horizon errors. Returns ``loss``, ``probs`` and ``preds``
        (N, 1, H, W), and ``horizon_errors`` ({index in the batch: error}) outside training."""
        image, mask = batch["image"], batch["mask"]
        logits = self(image)
        loss = self.criterion(logits, mask.float())
        probs = torch.sigmoid(logits.detach())
        preds = (probs > self.threshold).long()
        out = {"loss": loss, "probs": probs, "preds": preds}
        if stage != "train":
            out["horizon_errors"] = batch_horizon_errors(probs, batch, self.threshold)
            self.horizon_errors[stage].extend(out["horizon_errors"].values())
        metrics, mean_loss = self.metrics[f"{stage}_"], self.losses[f"{stage}_"]
        metrics.update(preds, mask.long())
        mean_loss.update(loss.detach(), weight=image.shape[0])
        self.log(f"{stage}/loss", mean_loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=stage != "train")
        return out

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")["loss"]

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._step(batch, "val")

    def _log_horizon_errors(self, stage: str) -> None:
        """Median/mean |dy| (px of the original frame), |d angle| and share within 2 px, per epoch."""
        errors, self.horizon_errors[stage] = self.horizon_errors[stage], []
        errors = gather_from_all_ranks(errors)  # under DDP: every process's images, not rank 0's alone
        if not errors:
            return
        summary = summarize_errors(errors)
        keys = ("dy_median_px", "dy_mean_px", "dangle_median_deg", "dangle_mean_deg", "within_2px")
        # the values are global already; sync_dist averages equal values (and silences Lightning's warning)
        self.log_dict({f"{stage}/horizon_{k}": float(summary[k]) for k in keys}, sync_dist=True)

    def on_test_epoch_end(self) -> None:
        self._log_horizon_errors("test")

    def on_validation_epoch_end(self) -> None:
        self._log_horizon_errors("val")
        # Only fitting tracks the best value: the epoch-0 check before training and the sanity check don't.
        if self.trainer.sanity_checking or self.trainer.state.fn != TrainerFn.FITTING:
            return
        dice = self.metrics["val_"]["val/dice"].compute()
        self.val_dice_best.update(dice)
        self.log("val/dice_best", self.val_dice_best.compute(), prog_bar=True, sync_dist=True)  # global

    def test_step(self, batch: dict, batch_idx: int) -> dict:
        """The test step; its outputs reach callbacks' ``on_test_batch_end`` (evaluate's per-image rows)."""
        return self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        for part in self.frozen:
            part.eval()  # Lightning sets train mode each epoch: frozen BatchNorm keeps its statistics

    def configure_optimizers(self) -> dict:
        params = [p for p in self.parameters() if p.requires_grad]
        if self.optimizer_factory is None:
            optimizer = torch.optim.AdamW(params, lr=1e-3)
        else:
            optimizer = self.optimizer_factory(params=params)
        if self.scheduler_factory is None:
            return {"optimizer": optimizer}
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def encoder_parts(net: nn.Module) -> list[nn.Module]:
    """The encoder (down path) of a network of :func:`seaSky.model.factory.build_net`."""
    if hasattr(net, "encoder"):  # segmentation-models-pytorch
        return [net.encoder]
    return [net.inc, net.downs]  # our U-Net


def gather_from_all_ranks(items: list) -> list:
    """The items of every process of a torch.distributed run, in rank order (DDP: each process scores
    its own share of the images); ``items`` itself in a single process. Every process must call it."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return items
    gathered: list[list | None] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, items)
    return [item for part in gathered for item in part or []]


def batch_horizon_errors(probs: torch.Tensor, batch: dict, threshold: float) -> dict[int, dict]:
    """Horizon errors of the samples of a batch that have horizon truth (e.g. a synthetic meta.csv), by
    index in the batch: the horizon is fitted on each predicted probability map and compared with the
    truth in the frame's own pixels (:func:`seaSky.horizon.probability_map_error`)."""
    known = batch.get("horizon_known")
    if known is None or not bool(known.any()):
        return {}
    return {
        i: probability_map_error(
            probs[i, 0].float().cpu().numpy(),
            batch["size"][i].tolist(),
            batch["horizon"][i].tolist(),
            threshold,
        )
        for i in torch.nonzero(known).flatten().tolist()
    }
