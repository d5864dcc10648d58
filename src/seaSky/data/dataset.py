"""In-memory torch Dataset over decoded, normalised image/mask arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


class ArraySegmentationDataset(Dataset):
    """Yields ``{"image": (1,H,W) float32, "mask": (1,H,W) uint8, "stem": str}``, plus, when the frames'
    own ``sizes`` are given, ``"size"`` (2,) = (height, width), ``"horizon"`` (2,) = true (y_left, y_right)
    in the frame's pixels (NaN: no horizon in view) and ``"horizon_known"`` (whether there is truth).

    ``transform`` is an albumentations-style callable ``transform(image=..., mask=...) -> dict``; it is
    applied to image and mask together (training only; evaluation passes None). Horizon truth is not
    reported for transformed samples (a flip or rotation moves the line).
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        stems: Sequence[str],
        transform: Callable[..., dict] | None = None,
        sizes: np.ndarray | None = None,
        horizons: np.ndarray | None = None,
        horizon_known: np.ndarray | None = None,
    ) -> None:
        if not len(images) == len(masks) == len(stems):
            raise ValueError("images, masks and stems must have the same length")
        self.images = images
        self.masks = masks
        self.stems = list(stems)
        self.transform = transform
        self.sizes = sizes
        n = len(images)
        self.horizons = horizons if horizons is not None else np.full((n, 2), np.nan, np.float32)
        known = horizon_known if horizon_known is not None else np.zeros(n, dtype=bool)
        self.horizon_known = known & (transform is None)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image, mask = self.images[index], self.masks[index]
        if self.transform is not None:
            out = self.transform(image=image, mask=mask)
            image, mask = out["image"], out["mask"]
        item = {
            "image": torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).unsqueeze(0),
            "mask": torch.from_numpy(np.ascontiguousarray(mask, dtype=np.uint8)).unsqueeze(0),
            "stem": self.stems[index],
        }
        if self.sizes is not None:
            item["size"] = torch.from_numpy(self.sizes[index])
            item["horizon"] = torch.from_numpy(self.horizons[index])
            item["horizon_known"] = bool(self.horizon_known[index])
        return item
