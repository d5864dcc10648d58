"""Check a folder data set without training: ``python -m seaSky.data.check ROOT``.

Lists every problem of ROOT, one line each naming its file: the checks training does when it loads the
folder (:mod:`seaSky.data.folder`: unreadable images, mask values not in {0,1} or {0,255}, image/mask size
mismatches, missing or orphan masks, split files naming missing stems, empty splits, the same frame in two
splits by stem or by identical pixels), run on every image of the folder, also those no split file lists
(``data.split=all`` evaluation reads them). Notes (``info:``) are not problems: no split files (training
splits at random), no val split (training draws it from train), images in no split file, identical images
within one split.

Exit status: 0 no problems, 1 problems, 2 ROOT is not a data folder or has no images (or a bad option).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seaSky.data.folder import (
    IMAGE_SUFFIXES,
    check_sample,
    find_overlaps,
    find_samples,
    find_splits,
    pixel_digest,
)
from seaSky.errors import EXIT_USER_ERROR, DataError, SeaSkyError


@dataclass
class FolderCheck:
    """What :func:`check_folder` found: the number of images, the problems and the notes (one line each)."""

    n_images: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_folder(
    root: Path | str, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, training: bool = True
) -> FolderCheck:
    """Check every file of the folder data set ``root``; ``fractions`` and ``seed`` are the random split's
    (``data.split_fractions``, ``data.split_seed``) where ROOT/splits does not exist. ``training=False``:
    a folder for evaluation only (``data.split=all``), whose random split may leave a split empty.

    Raises DataError when ``root`` is not a data folder or holds no images."""
    root = Path(root)
    samples, problems = find_samples(root)
    if not samples:
        raise DataError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in it")
    split_notes: list[str] = []
    splits, split_problems = find_splits(root, fractions, seed, split_notes)
    if training:
        problems += split_problems
    notes = split_notes if training else []
    if not training:
        notes.append(f"{root}: for evaluation only (data.split=all): no training split is checked")
    elif (root / "images").is_dir() and not (root / "splits").is_dir():
        notes.append(
            f"{root / 'splits'}: no split files; training splits the {len(samples)} images at random "
            f"({list(fractions)}, seed {seed})"
        )
    listed = {sample.image_path for split in splits.values() for sample in split}
    unlisted = [sample.image_path.name for sample in samples if sample.image_path not in listed]
    if unlisted and (root / "splits").is_dir():
        shown = ", ".join(unlisted[:5]) + (", ..." if len(unlisted) > 5 else "")
        notes.append(
            f"{root / 'splits'}: {len(unlisted)} image(s) in no split file (not trained on): {shown}"
        )
    digests = {}
    for sample in samples:
        image, _, sample_problems = check_sample(sample)
        problems += sample_problems
        if image is not None:
            digests[sample.image_path] = pixel_digest(image)
    if training:  # the same pixels in train and in val or test would make the scores too good
        overlaps, duplicates = find_overlaps(splits, digests)
        problems += overlaps
        notes += duplicates
    # find_samples and find_splits both pair images with masks: report each problem once
    return FolderCheck(len(samples), list(dict.fromkeys(problems)), notes)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the problems and notes of a folder data set and a summary line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m seaSky.data.check",
        description="List every problem of a seaSky folder data set (the checks training does).",
    )
    parser.add_argument("root", type=Path, help="the data folder (ROOT/images + ROOT/masks, ...)")
    add_split_fractions(
        parser, "random split without ROOT/splits, as data.split_fractions (default 0.8 0.1 0.1)"
    )
    parser.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="as data.split_seed (default 0): seeds the random split, and the draw of val from train "
        "where there is no val split",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s")  # warnings of reading, e.g. a coloured symbol
    try:
        found = check_folder(args.root, args.split_fractions, args.split_seed)
    except SeaSkyError as err:  # not a data folder, no images, bad split fractions
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    return print_check(args.root, found)


def add_split_fractions(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The ``--split-fractions TRAIN VAL TEST`` option (default 0.8 0.1 0.1)."""
    parser.add_argument(
        "--split-fractions",
        type=float,
        nargs=3,
        default=[0.8, 0.1, 0.1],
        metavar=("TRAIN", "VAL", "TEST"),
        help=help_text,
    )


def print_check(root: Path | str, found: FolderCheck) -> int:
    """Print the problems, notes and a summary line of a check; the exit status (1: problems, else 0)."""
    for line in found.problems:
        print(line)
    for line in found.notes:
        print(f"info: {line}")
    notes = f", {len(found.notes)} note(s)" if found.notes else ""
    print(f"{root}: {found.n_images} images, {len(found.problems)} problem(s){notes}")
    return 1 if found.problems else 0


if __name__ == "__main__":
    sys.exit(main())
