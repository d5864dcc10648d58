"""LightningDataModules: a folder of IR images/masks, and the built-in synthetic scenes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lightning import LightningDataModule
from torch.utils.data import DataLoader

from seaSky.data.dataset import ArraySegmentationDataset, EpochShuffle
from seaSky.data.folder import (
    SPLITS,
    find_labelled,
    find_overlaps,
    find_splits,
    horizon_truth_arrays,
    load_split,
    raise_problems,
    read_horizon_truth,
)
from seaSky.errors import ConfigError
from seaSky.render.dataset import cached_set_name, write_dataset
from seaSky.render.knobs import SceneConfig

log = logging.getLogger(__name__)


class IRSegDataModule(LightningDataModule):
    """Train/val/test splits of a seaSky folder, decoded once and kept in memory.

    Args:
        root: data folder (layouts in :mod:`seaSky.data.folder`).
        image_size: (height, width) every image and mask is resized to; evaluation uses it too.
        batch_size: samples per batch.
        num_workers: DataLoader worker processes (0 = load in the main process).
        split_fractions: (train, val, test) fractions when ``root/splits`` does not exist.
        split_seed: seed of that random split, and of the draw of val from train where the data set has
            train and test splits only (see :mod:`seaSky.data.folder`).
        split: what the test loop scores: ``test`` (the test split) or ``all`` (every image with a mask,
            whatever the split files say; for evaluation only, as training needs train/val splits).
        normalize: keyword arguments of :func:`seaSky.data.preprocess.normalize_image`.
        augment: albumentations pipeline for training (None = no augmentation).
    """

    def __init__(
        self,
        root: str | Path,
        image_size: Sequence[int] = (128, 160),
        batch_size: int = 16,
        num_workers: int = 0,
        split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
        split_seed: int = 0,
        split: str = "test",
        normalize: Mapping | None = None,
        augment: Callable[..., dict] | None = None,
    ) -> None:
        super().__init__()
        root = str(root)  # plain types only in checkpoints (torch.load with weights_only=True)
        # stored in checkpoints: inference rebuilds the same preprocessing from a checkpoint alone
        self.save_hyperparameters(ignore=["augment"])
        if len(image_size) != 2 or min(image_size) < 8:
            raise ConfigError(f"data.image_size must be [height, width] of at least 8, got {image_size}")
        if split not in ("test", "all"):
            raise ConfigError(f"data.split must be test or all, got {split!r}")
        self.split = split
        self.root = Path(root)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.split_fractions = tuple(split_fractions)
        self.split_seed = split_seed
        self.normalize = dict(normalize or {})
        self.augment = augment or None  # an empty config node means no augmentation
        self.datasets: dict[str, ArraySegmentationDataset] = {}
        self.sampling_seed: int | None = None

    def seed_sampling(self, seed: int) -> None:
        """Draw the training order and the augmentation from (``seed``, epoch): two runs with the same seed
        see the same batches, and a resumed run those of the uninterrupted one (in the main process;
        with ``num_workers`` > 0 each worker draws from its own seed, which the DataLoader derives from
        the run's seed, so runs repeat but a resume draws new augmentations)."""
        self.sampling_seed = seed

    def _epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer is not None else 0

    def setup(self, stage: str | None = None) -> None:
        """Decode and validate all splits once; raise one DataError that lists every problem."""
        if self.datasets:
            return
        if self.split == "all":
            if stage in ("fit", "validate"):
                raise ConfigError("data.split=all is for evaluation; training needs train/val splits")
            labelled, problems = find_labelled(self.root)
            splits = {"train": [], "val": [], "test": labelled}
        else:
            notes: list[str] = []
            splits, problems = find_splits(self.root, self.split_fractions, self.split_seed, notes)
            for note in notes:  # e.g. no val split: validation drawn from train
                log.info("Data: %s", note)
        loaded, digests = {}, {}
        for name in SPLITS:
            images, masks, sizes, split_problems = load_split(
                splits[name], self.image_size, self.normalize, digests
            )
            problems += split_problems
            loaded[name] = (images, masks, sizes, [s.stem for s in splits[name]])
        problems += find_overlaps(splits, digests)[0]  # a frame in two splits inflates test scores
        raise_problems(self.root, problems)
        truth = read_horizon_truth(self.root)  # {} unless ROOT/meta.csv has y_left/y_right
        for name, (images, masks, sizes, stems) in loaded.items():
            transform = self.augment if name == "train" else None
            lines, known = horizon_truth_arrays(truth, stems)
            self.datasets[name] = ArraySegmentationDataset(
                images, masks, stems, transform, sizes, lines, known
            )
        counts = ", ".join(f"{name} {len(ds)}" for name, ds in self.datasets.items())
        height, width = self.image_size
        log.info("Data %s: %s images at %dx%d (WxH)", self.root, counts, width, height)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset, sampler = self.datasets[split], None
        if shuffle and self.sampling_seed is not None:
            sampler = EpochShuffle(len(dataset), self.sampling_seed, self._epoch)
            dataset.seed_augmentation(self.sampling_seed, self._epoch)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle and sampler is None,
            sampler=sampler,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=False,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


class SyntheticIRDataModule(IRSegDataModule):
    """The built-in synthetic IR scenes (:mod:`seaSky.render`): rendered once into a cache folder, then
    read like any folder.

    The cache folder's name carries a hash of every rendering parameter and of the renderer's source, so
    changing a scene knob or the renderer renders a new set while an unchanged one reuses the old set.

    Args:
        cache_dir: parent folder of rendered sets (e.g. ``data/synthetic``).
        n: number of scenes (split 80/10/10 by the renderer).
        seed: rendering seed.
        render_size: (height, width) of the rendered frames (the camera), before ``image_size`` resizing.
        bit_depth: 16 (14-bit radiometric counts) or 8 (AGC frames).
        scene: scene knobs (a preset's values, see ``conf/preset``); None = the default preset.
        workers: rendering processes (None = all cores).
        **kwargs: everything else of :class:`IRSegDataModule` except ``root``.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        n: int = 1200,
        seed: int = 0,
        render_size: Sequence[int] = (256, 320),
        bit_depth: int = 16,
        scene: Mapping | None = None,
        workers: int | None = None,
        **kwargs,
    ) -> None:
        self.render = {
            "n": int(n),
            "seed": int(seed),
            "height": int(render_size[0]),
            "width": int(render_size[1]),
            "bit_depth": int(bit_depth),
            "scene": dict(scene or {}),
        }
        name = cached_set_name(**self.render)
        super().__init__(root=Path(cache_dir) / name, **kwargs)
        self.workers = workers

    def prepare_data(self) -> None:
        """Render the set unless a complete one (with its dataset.json) is already cached."""
        if (self.root / "dataset.json").is_file():
            log.info("Using cached synthetic scenes in %s", self.root)
            return
        log.info("Rendering %d synthetic IR scenes into %s", self.render["n"], self.root)
        write_dataset(
            self.root,
            n=self.render["n"],
            seed=self.render["seed"],
            scene=SceneConfig.from_dict(self.render["scene"]),
            width=self.render["width"],
            height=self.render["height"],
            bit_depth=self.render["bit_depth"],
            workers=self.workers,
        )
