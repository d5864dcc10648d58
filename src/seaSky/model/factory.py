"""Build the segmentation network named by the config: the hand-written U-Net or smp's Unet."""

from __future__ import annotations

from torch import nn

from seaSky.errors import ConfigError
from seaSky.model.unet import UNet

ARCHITECTURES = ("unet", "smp_unet")


def build_net(
    *,
    arch: str = "unet",
    in_channels: int = 1,
    depth: int = 4,
    base_channels: int = 16,
    up: str = "transpose",
    dropout: float = 0.0,
    encoder: str = "resnet18",
) -> nn.Module:
    """Return a network mapping (N, in_channels, H, W) images to (N, 1, H, W) sea logits.

    ``smp_unet`` uses segmentation-models-pytorch's Unet with a randomly initialised encoder
    (``encoder_weights=None``: nothing is downloaded); ``depth`` is its encoder depth (3..5) and
    ``base_channels`` the width of its last decoder stage, doubling towards the bottleneck as in ours.
    """
    if arch == "unet":
        return UNet(in_channels, 1, depth=depth, base_channels=base_channels, up=up, dropout=dropout)
    if arch == "smp_unet":
        import segmentation_models_pytorch as smp

        if not 3 <= depth <= 5:
            raise ConfigError(f"smp_unet supports depth 3..5, got {depth}")
        return smp.Unet(
            encoder_name=encoder,
            encoder_weights=None,
            encoder_depth=depth,
            decoder_channels=[base_channels * 2**i for i in reversed(range(depth))],
            in_channels=in_channels,
            classes=1,
        )
    raise ConfigError(f"model.arch must be one of {ARCHITECTURES}, got {arch!r}")
