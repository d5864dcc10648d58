"""Load a trained model from a ``seaSky.train`` checkpoint: :func:`load_trained` (the LightningModule, for
evaluate, adapt and training from a checkpoint) and :func:`load_network` (the network alone, for predict
and export: no Lightning, no segmentation-models-pytorch unless the network is one of its)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from seaSky.errors import CheckpointError, one_line
from seaSky.preflight import check_is_file

if TYPE_CHECKING:
    from seaSky.model.module import SeaSkyModule

# the hyper-parameters of SeaSkyModule that build its network (seaSky.model.factory.build_net)
NET_KEYS = ("arch", "in_channels", "depth", "base_channels", "up", "dropout", "encoder")


class TrainedNet(nn.Module):
    """The network of a trained SeaSkyModule with what inference needs of the module: its ``threshold``
    and its memory layout (``forward`` is SeaSkyModule's), without Lightning.

    Args:
        net: the network (:func:`seaSky.model.factory.build_net`).
        threshold: probability above which a pixel counts as sea.
        channels_last: run the network in channels-last memory format, as the module was trained.
    """

    def __init__(self, net: nn.Module, threshold: float = 0.5, channels_last: bool = False) -> None:
        super().__init__()
        self.net = net.to(memory_format=torch.channels_last) if channels_last else net
        self.threshold = float(threshold)
        self.channels_last = bool(channels_last)

    @property
    def num_parameters(self) -> int:
        from seaSky.model.unet import count_parameters

        return count_parameters(self.net)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Sea logits (N, 1, H, W) for images (N, 1, H, W)."""
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        return self.net(image)


def read_checkpoint(ckpt_path: str | Path) -> dict[str, Any]:
    """The raw dict of a checkpoint written by ``seaSky.train`` (tensors on the CPU).

    Raises:
        CheckpointError: the file is missing (or a folder), unreadable, or not a seaSky checkpoint.
    """
    path = Path(ckpt_path)
    check_is_file(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and permission errors all mean "cannot use this file"
        # an unpickling or zip error only by its type: torch's message advises weights_only=False, wrong
        # for a damaged file; a permission or disk error as it is
        detail = one_line(err) if isinstance(err, OSError) else type(err).__name__
        raise CheckpointError(
            f"{path}: not a readable checkpoint (not a PyTorch checkpoint, or truncated; {detail})"
        ) from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "hyper_parameters" not in ckpt:
        raise CheckpointError(f"{path}: not a seaSky checkpoint (no state_dict/hyper_parameters)")
    return ckpt


def load_network(ckpt_path: str | Path) -> tuple[TrainedNet, dict[str, Any]]:
    """The trained network of a ``seaSky.train`` checkpoint (on the CPU, eval mode) and the raw checkpoint
    dict: the same weights, threshold and layout as :func:`load_trained`'s module, built from the state
    dict and hyper-parameters alone (no Lightning imported).

    Raises:
        CheckpointError: the file is missing (or a folder), unreadable, or not a seaSky checkpoint.
    """
    from seaSky.model.factory import build_net

    path = Path(ckpt_path)
    ckpt = read_checkpoint(path)
    hparams = dict(ckpt["hyper_parameters"])
    prefix = "net."
    try:
        net = build_net(**{key: hparams[key] for key in NET_KEYS if key in hparams})
        state = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
        net.load_state_dict(state, strict=True)
        model = TrainedNet(net, hparams.get("threshold", 0.5), bool(hparams.get("channels_last", False)))
    except Exception as err:
        raise CheckpointError(f"{path}: cannot restore the model: {one_line(err)}") from None
    return model.eval(), ckpt


def load_trained(ckpt_path: str | Path) -> tuple[SeaSkyModule, dict[str, Any]]:
    """The SeaSkyModule of a checkpoint written by ``seaSky.train`` (on the CPU) and the raw checkpoint
    dict (its ``datamodule_hyper_parameters`` hold the preprocessing).

    Raises:
        CheckpointError: the file is missing (or a folder), unreadable, or not a seaSky checkpoint.
    """
    from seaSky.model.module import SeaSkyModule

    path = Path(ckpt_path)
    ckpt = read_checkpoint(path)
    try:
        module = SeaSkyModule.load_from_checkpoint(path, map_location="cpu")
    except Exception as err:
        raise CheckpointError(f"{path}: cannot restore the model: {one_line(err)}") from None
    return module, ckpt
