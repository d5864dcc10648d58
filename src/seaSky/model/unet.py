"""A readable U-Net for binary sea/sky segmentation (after Ronneberger et al. 2015).

Parts follow milesial/Pytorch-UNet: ``DoubleConv`` -> ``Down`` (max-pool) -> ... -> ``Up`` (upsample,
pad to the skip's size, concatenate, ``DoubleConv``) -> ``OutConv``. Any input size works: the decoder
pads each upsampled map to its skip connection, so odd sizes such as 67x71 come back at full size.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from seaSky.errors import ConfigError

UpMode = Literal["transpose", "bilinear"]


class DoubleConv(nn.Module):
    """(3x3 conv -> BatchNorm -> ReLU) twice, optional dropout at the end."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Down(nn.Module):
    """2x2 max-pool, then DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_channels, out_channels, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """Upsample x2, pad to the skip's size, concatenate with the skip, then DoubleConv.

    ``in_channels`` is the channel count of the deeper map, ``skip_channels`` that of the skip.
    """

    def __init__(
        self, in_channels: int, skip_channels: int, out_channels: int, mode: UpMode, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if mode == "transpose":
            self.up: nn.Module = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
            up_channels = in_channels // 2
        elif mode == "bilinear":
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            up_channels = in_channels
        else:
            raise ConfigError(f"up must be 'transpose' or 'bilinear', got {mode!r}")
        self.conv = DoubleConv(up_channels + skip_channels, out_channels, dropout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        dy = skip.shape[-2] - x.shape[-2]
        dx = skip.shape[-1] - x.shape[-1]
        # An odd-sized skip is one pixel larger than the upsampled map: pad (never crop) to match.
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class OutConv(nn.Module):
    """1x1 convolution to the output logits."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """U-Net returning logits of shape (N, out_channels, H, W) for input (N, in_channels, H, W).

    Args:
        in_channels: input image channels (1 for thermal greyscale).
        out_channels: output logit channels (1 for binary sea/not-sea).
        depth: number of down-sampling steps (1..6); the encoder has ``depth + 1`` levels.
        base_channels: channels of the first level; each level doubles them.
        up: ``"transpose"`` (learned 2x2 transposed conv) or ``"bilinear"`` upsampling.
        dropout: Dropout2d probability after each block of the two deepest levels (0 disables).

    Example:
        >>> net = UNet(depth=4, base_channels=16)
        >>> net(torch.zeros(2, 1, 67, 71)).shape
        torch.Size([2, 1, 67, 71])
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        depth: int = 4,
        base_channels: int = 16,
        up: UpMode = "transpose",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not 1 <= depth <= 6:
            raise ConfigError(f"depth must be in 1..6, got {depth}")
        if base_channels < 1:
            raise ConfigError(f"base_channels must be >= 1, got {base_channels}")
        self.depth = depth
        widths = [base_channels * 2**level for level in range(depth + 1)]
        deep = {depth - 1, depth}  # dropout only where the receptive field is large

        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(
            Down(widths[i], widths[i + 1], dropout if i + 1 in deep else 0.0) for i in range(depth)
        )
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i], widths[i], up, dropout if i + 1 in deep else 0.0)
            for i in reversed(range(depth))
        )
        self.outc = OutConv(widths[0], out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
