"""In-memory torch Dataset over decoded, normalised image/mask arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


class ArraySegmentationDataset(Dataset):
    """Yields ``{"image": (1,H,W) float32, "mask": (1,H,W) uint8, "stem": str}``.

    ``transform`` is an albumentations-style callable ``transform(image=..., mask=...) -> dict``; it is
    applied to image and mask together (training only; evaluation passes None).
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        stems: Sequence[str],
        transform: Callable[..., dict] | None = None,
    ) -> None:
        if not len(images) == len(masks) == len(stems):
            raise ValueError("images, masks and stems must have the same length")
        self.images = images
        self.masks = masks
        self.stems = list(stems)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image, mask = self.images[index], self.masks[index]
        if self.transform is not None:
            out = self.transform(image=image, mask=mask)
            image, mask = out["image"], out["mask"]
        return {
            "image": torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).unsqueeze(0),
            "mask": torch.from_numpy(np.ascontiguousarray(mask, dtype=np.uint8)).unsqueeze(0),
            "stem": self.stems[index],
        }
