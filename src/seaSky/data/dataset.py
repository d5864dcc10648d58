"""In-memory torch Dataset over decoded, normalised image/mask arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, get_worker_info


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 32-bit seed for one (run seed, epoch, stream): the same numbers give the same seed."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


class EpochShuffle(Sampler[int]):
    """A random order of ``n`` samples drawn from (``seed``, the epoch ``epoch()`` returns when the
    epoch's iteration starts): a run resumed at epoch k sees the order the uninterrupted run saw."""

    def __init__(self, n: int, seed: int, epoch: Callable[[], int]) -> None:
        self.n, self.seed, self.epoch = n, seed, epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch()))
        yield from torch.randperm(self.n, generator=generator).tolist()


class ArraySegmentationDataset(Dataset):
    """Yields ``{"image": (1,H,W) float32, "mask": (1,H,W) uint8, "stem": str}``, plus, when the frames'
    own ``sizes`` are given, ``"size"`` (2,) = (height, width), ``"horizon"`` (2,) = true (y_left, y_right)
    in the frame's pixels (NaN: no horizon in view) and ``"horizon_known"`` (whether there is truth).

    ``transform`` is an albumentations-style callable ``transform(image=..., mask=...) -> dict``; it is
    applied to image and mask together (training only; evaluation passes None). Horizon truth is not
    reported for transformed samples (a flip or rotation moves the line). After :meth:`seed_augmentation`
    its random draws come from (seed, epoch) in the main process, and from the worker's own seed (which
    the DataLoader derives from the run's seed) in a worker process.
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
        self._seed: int | None = None
        self._epoch: Callable[[], int] = lambda: 0
        self._seeded_for: tuple | None = None

    def seed_augmentation(self, seed: int, epoch: Callable[[], int]) -> None:
        """Draw the augmentation's random numbers from ``seed`` and the current ``epoch()``."""
        self._seed, self._epoch, self._seeded_for = seed, epoch, None

    def __getstate__(self) -> dict:  # worker processes use their own seed, not the epoch callable
        return {**self.__dict__, "_epoch": None}

    def _reseed_transform(self) -> None:
        worker = get_worker_info()
        key = ("worker", worker.seed) if worker is not None else ("main", self._epoch())
        if key != self._seeded_for and hasattr(self.transform, "set_random_seed"):
            stream = worker.seed % 2**31 if worker is not None else 0
            self.transform.set_random_seed(epoch_seed(self._seed, key[1] if worker is None else 0, stream))
            self._seeded_for = key

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image, mask = self.images[index], self.masks[index]
        if self.transform is not None:
            if self._seed is not None:
                self._reseed_transform()
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
