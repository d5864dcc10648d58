"""The training augmentations of the configs: masks stay binary and aligned with their images."""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
import pytest

from conftest import make_cfg


@pytest.mark.parametrize("augment", ["default", "real", "real_equalised"])
def test_augmentations_keep_masks_binary_and_aligned(tmp_path: Path, augment: str) -> None:
    cfg = make_cfg(tmp_path, tmp_path, [f"data/augment={augment}", "data.image_size=[64,80]"])
    transform = hydra.utils.instantiate(cfg.data.augment)
    rng = np.random.default_rng(0)
    changed = 0
    for _ in range(30):
        # sky (0.2) above a level sea (0.8) at row 30, with noise: the mask is the sea
        image = np.where(np.arange(64)[:, None] >= 30, 0.8, 0.2) + rng.normal(0, 0.02, (64, 80))
        image = np.clip(image, 0, 1).astype(np.float32)
        mask = (np.arange(64)[:, None] >= 30).repeat(80, axis=1).astype(np.uint8)
        out = transform(image=image, mask=mask)
        assert out["image"].shape == (64, 80) and out["image"].dtype == np.float32
        assert set(np.unique(out["mask"])) <= {0, 1}
        # aligned: the two regions of the mask keep the two intensity levels apart (or swapped by the
        # black-hot inversion), away from the boundary and from reflected borders
        sea, sky = out["mask"] == 1, out["mask"] == 0
        if sea.sum() > 200 and sky.sum() > 200:
            gap = abs(float(np.median(out["image"][sea])) - float(np.median(out["image"][sky])))
            assert gap > 0.1
        changed += not np.array_equal(out["image"], image)
    assert changed >= 20
