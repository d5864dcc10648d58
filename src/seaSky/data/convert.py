"""Convert public sea/sky annotations into a seaSky folder: ``python -m seaSky.data.convert FORMAT SRC ROOT``.

Writes ``ROOT/images/<stem>.*``, ``ROOT/masks/<stem>.png`` (255 = sea), ``ROOT/splits/{train,val,test}.txt``
and, for the line formats, ``ROOT/meta.csv`` (``stem,y_left,y_right,line_y_left,line_y_right,source``),
then checks ROOT as ``python -m seaSky.data.check`` does. The formats and their coordinate conventions are
described in :mod:`seaSky.data.convert_formats`.

* Images keep their bytes (and bit depth) where seaSky reads them as they are (PNG/TIFF/JPEG, greyscale or
  colour with equal channels); real colour (and video frames, other formats) is written as greyscale PNG
  of the same bit depth. Stems are the source files' (video frames: ``<video>_<frame:05d>``); two sources
  with one stem are an error naming both.
* meta.csv: ``line_y_left``/``line_y_right`` are the annotated line's y at x = 0 and x = W - 1 (pixel
  centres); ``y_left``/``y_right`` the same, left empty where the line only grazes the frame's edge row
  (no horizon in view, as the renderer writes it). A line that misses its frame (a mask all sea or all
  sky) or whose points lie far outside it (labelled at another image size) is an error naming the file
  and line (:func:`seaSky.data.convert_formats.check_line_in_frame`).
* Splits: ``--split random`` (default) a seeded random split by ``--split-fractions`` (0.8 0.1 0.1) and
  ``--seed`` (0), except video frames (smd-mat), whose frames are split per video in time order (the first
  80 % train, then val, then test), as neighbouring frames are near duplicates; ``--split all`` writes no
  split files: every image is for evaluation (``data.split=all``).
* A non-empty ROOT is refused unless ``--overwrite``, which replaces only the images/, masks/, splits/ and
  meta.csv that an earlier conversion wrote (a user's own are refused, never replaced). Nothing in ROOT
  changes unless the whole conversion succeeds.

Exit status: 0 done and ROOT passes the check, 1 ROOT has check problems, 2 bad input or option (one line
naming the file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.check import FolderCheck, add_split_fractions, check_folder, print_check
from seaSky.data.convert_formats import READERS, Item, Options
from seaSky.data.folder import IMAGE_SUFFIXES, SPLITS
from seaSky.errors import EXIT_USER_ERROR, ConfigError, DataError, SeaSkyError
from seaSky.io import atomic_write, earlier_outputs, record_outputs, remove_outputs, write_csv

OUTPUTS = ("images", "masks", "splits", "meta.csv")
META_COLUMNS = ("stem", "y_left", "y_right", "line_y_left", "line_y_right", "source")
LINE_FORMATS = ("lines-json", "lines-csv", "smd-mat")
# options that only some formats take (argparse dest -> formats)
FORMAT_OPTIONS = {
    "origin": LINE_FORMATS,
    "every": ("smd-mat",),
    "images": ("sky-mask", "palette"),
    "masks": ("sky-mask", "palette"),
    "sky_value": ("sky-mask",),
    "water_colors": ("palette",),
    "tolerance": ("palette",),
}


@dataclass
class Converted:
    """What :func:`convert` wrote: counts, the split sizes (None: no split files), notes and the check."""

    root: Path
    n_frames: int = 0
    n_copied: int = 0
    n_encoded: int = 0
    n_lines: int = 0
    n_in_view: int = 0
    splits: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)
    check: FolderCheck | None = None


def _greyscale(image: np.ndarray, source: str) -> tuple[np.ndarray, bool]:
    """The image as seaSky reads it (one channel) and whether that needed a colour conversion."""
    if image.ndim == 2:
        return image, False
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0], False
    if image.ndim == 3 and image.shape[2] in (3, 4):
        colour = image[..., :3]
        if (colour == colour[..., :1]).all():
            return colour[..., 0], False
        return cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_BGR2GRAY), True
    raise DataError(f"{source}: unsupported image shape {image.shape}")


def _write_image(item: Item, folder: Path) -> bool:
    """Write the item's image into ``folder``; True when the source file was copied byte for byte."""
    grey, converted = _greyscale(item.image, item.source)
    source = item.copy_from
    if source is not None and not converted and source.suffix.lower() in IMAGE_SUFFIXES:
        shutil.copyfile(source, folder / f"{item.stem}{source.suffix}")
        return True
    suffix = ".png" if grey.dtype in (np.uint8, np.uint16) else ".tif"
    if not cv2.imwrite(str(folder / f"{item.stem}{suffix}"), grey):
        raise OSError(f"could not write {folder / (item.stem + suffix)}")
    return False


def _meta_row(item: Item) -> dict:
    """meta.csv row: the line at x = 0 and W - 1; y_left/y_right empty where it is not in view."""
    a, b = item.line  # type: ignore[misc]
    height, width = item.mask.shape
    rows = a + b * np.arange(width, dtype=np.float64)
    in_view = bool(((rows > 0) & (rows < height - 1)).any())  # as seaSky.render.geometry.horizon_chord
    y_left, y_right = round(a, 4), round(a + b * (width - 1), 4)
    return {
        "stem": item.stem,
        "y_left": y_left if in_view else "",
        "y_right": y_right if in_view else "",
        "line_y_left": y_left,
        "line_y_right": y_right,
        "source": item.source,
    }


def split_counts(n: int, fractions: Sequence[float]) -> tuple[int, int, int]:
    """(train, val, test) sizes of n frames by the fractions, rounded; from 3 frames on, a split with a
    positive fraction gets at least one (so that a small set still has a val and a test frame)."""
    total = float(sum(fractions))
    n_val = round(n * fractions[1] / total)
    n_test = round(n * fractions[2] / total)
    if n >= 3:
        n_val = max(n_val, 1) if fractions[1] > 0 else n_val
        n_test = max(n_test, 1) if fractions[2] > 0 else n_test
    return n - n_val - n_test, n_val, n_test


def assign_splits(
    order: Sequence[str], groups: dict[str, str | None], fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """Stems per split: a seeded random split of the stems without a group (sorted, then permuted by
    ``seed``); the frames of each group (a video, stems in frame order) split in time order."""
    loose = sorted(s for s in order if groups[s] is None)
    blocks = [[loose[i] for i in np.random.default_rng(seed).permutation(len(loose))]]
    videos: dict[str, list[str]] = {}
    for stem in order:
        if groups[stem] is not None:
            videos.setdefault(groups[stem], []).append(stem)  # type: ignore[arg-type]
    out: dict[str, list[str]] = {name: [] for name in SPLITS}
    for stems in [*blocks, *videos.values()]:
        n_train, n_val, _ = split_counts(len(stems), fractions)
        out["train"] += stems[:n_train]
        out["val"] += stems[n_train : n_train + n_val]
        out["test"] += stems[n_train + n_val :]
    return {name: sorted(stems) for name, stems in out.items()}


def _check_root(root: Path, sources: Sequence[Path], overwrite: bool) -> None:
    """ROOT may be written: a folder (or nothing yet), not holding a source, empty unless ``overwrite``."""
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: exists and is not a folder")
    for source in sources:
        folder = (source if source.is_dir() else source.parent).resolve()
        if folder == root.resolve() or root.resolve() in folder.parents:
            raise ConfigError(f"{root}: holds the source {source}; choose an output folder outside it")
    if root.is_dir() and any(root.iterdir()) and not overwrite:
        raise ConfigError(
            f"{root}: is not empty; pass --overwrite to replace its images/, masks/, splits/ and meta.csv "
            "(nothing else in it is deleted) or choose another ROOT"
        )
    if overwrite:  # only an earlier conversion's: a user's own images/ or masks/ are never replaced
        earlier_outputs(root, OUTPUTS, overwrite=True, other="ROOT")


def convert(
    fmt: str,
    src: Path | str,
    root: Path | str,
    options: Options | None = None,
    overwrite: bool = False,
    split: str = "random",
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> Converted:
    """Convert SRC in format ``fmt`` into the seaSky folder ROOT and check it (see the module docstring).

    Raises ConfigError for bad options or a ROOT that may not be written, DataError for bad input; in
    both cases ROOT is left as it was."""
    src, root, opts = Path(src), Path(root), options or Options()
    if fmt not in READERS:
        raise ConfigError(f"unknown format {fmt!r}; one of {', '.join(READERS)}")
    if split not in ("random", "all"):
        raise ConfigError(f"--split must be random or all, got {split!r}")
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) <= 0:
        raise ConfigError(f"--split-fractions must be 3 non-negative numbers, got {list(fractions)}")
    if fmt == "palette" and not opts.water_colors:
        raise ConfigError("palette needs --water-colors R,G,B[;R,G,B...]")
    if opts.every < 1:
        raise ConfigError(f"--every must be a positive integer, got {opts.every}")
    if not src.exists():
        raise DataError(f"{src}: does not exist")
    _check_root(root, [p for p in (src, opts.images, opts.masks) if p is not None], overwrite)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=root, prefix=".convert-"))
    done = Converted(root, notes=opts.notes)
    try:
        (stage / "images").mkdir()
        (stage / "masks").mkdir()
        sources: dict[str, str] = {}
        groups: dict[str, str | None] = {}
        meta: list[dict] = []
        for item in READERS[fmt](src, opts):
            if sources.get(item.stem) == item.source:
                raise DataError(f"{item.source}: listed twice in {src}; each image once")
            if item.stem in sources:
                raise DataError(
                    f"{item.source}: stem {item.stem!r} is also that of {sources[item.stem]}; stems must be "
                    "unique (convert the two into different ROOTs)"
                )
            sources[item.stem] = item.source
            groups[item.stem] = item.group
            if _write_image(item, stage / "images"):
                done.n_copied += 1
            else:
                done.n_encoded += 1
            if not cv2.imwrite(str(stage / "masks" / f"{item.stem}.png"), item.mask * np.uint8(255)):
                raise OSError(f"could not write {stage / 'masks' / item.stem}.png")
            if item.line is not None:
                meta.append(_meta_row(item))
        if not sources:
            raise DataError(f"{src}: no frames to convert")
        remove_outputs([root / name for name in OUTPUTS if (root / name).exists()])
        record_outputs(root, OUTPUTS)
        os.replace(stage / "images", root / "images")
        os.replace(stage / "masks", root / "masks")
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(root.iterdir()):
            root.rmdir()
        raise
    shutil.rmtree(stage, ignore_errors=True)
    done.n_frames = len(sources)
    if split == "random":
        parts = assign_splits(list(sources), groups, fractions, seed)
        for name, stems in parts.items():
            text = "".join(f"{s}\n" for s in stems)
            atomic_write(root / "splits" / f"{name}.txt", lambda tmp, text=text: tmp.write_text(text))
        done.splits = {name: len(stems) for name, stems in parts.items()}
    if meta:
        write_csv(root / "meta.csv", sorted(meta, key=lambda r: r["stem"]), META_COLUMNS)
        done.n_lines = len(meta)
        done.n_in_view = sum(row["y_left"] != "" for row in meta)
    done.check = check_folder(root, fractions, seed, training=split == "random")
    return done


def _colours(text: str) -> list[tuple[int, int, int]]:
    """``R,G,B;R,G,B`` -> [(R, G, B), ...], each 0-255."""
    colours = []
    for part in text.split(";"):
        try:
            rgb = tuple(int(v) for v in part.split(","))
        except ValueError:
            rgb = ()
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ConfigError(f"--water-colors: {part.strip()!r} is not R,G,B with values 0-255")
        colours.append(rgb)
    return colours  # type: ignore[return-value]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seaSky.data.convert",
        description="Convert public sea/sky annotations into a seaSky folder (images, masks with 255 = sea, "
        "splits, meta.csv) and check it.",
        epilog="formats: lines-json (InfML-HDD JSON lines: x_coordinate, y_coordinate, raw_file), lines-csv "
        "(file,x1,y1,x2,y2), smd-mat (Singapore Maritime Dataset *_HorizonGT.mat + videos), sky-mask "
        "(SRC/images + SRC/masks, 255/1/palette index 1 = sky), palette (SRC/images + SRC/masks, RGB "
        "colour-coded). Line formats: sea = pixels below the line.",
    )
    parser.add_argument("format", choices=list(READERS), help="the source format")
    parser.add_argument("src", type=Path, help="the source file or folder")
    parser.add_argument("root", type=Path, help="the seaSky folder to write")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace ROOT's images/ masks/ splits/ meta.csv"
    )
    parser.add_argument(
        "--split",
        choices=["random", "all"],
        default="random",
        help="random: seeded split files (video frames: in time order per video); "
        "all: no split files, every image for evaluation (data.split=all)",
    )
    add_split_fractions(parser, "default 0.8 0.1 0.1")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random split (default 0)")
    parser.add_argument(
        "--origin",
        type=int,
        choices=[0, 1],
        default=None,
        help="line formats: coordinate of the first pixel centre in the source "
        "(default 0; smd-mat 1, MATLAB)",
    )
    parser.add_argument("--every", type=int, default=None, help="smd-mat: keep every Nth frame (default 1)")
    parser.add_argument("--images", type=Path, default=None, help="mask formats: image folder (SRC/images)")
    parser.add_argument("--masks", type=Path, default=None, help="mask formats: mask folder (SRC/masks)")
    parser.add_argument(
        "--sky-value",
        type=int,
        default=None,
        help="sky-mask: mask value of sky (default 255 or 1; palette PNGs: index 1)",
    )
    parser.add_argument(
        "--water-colors",
        type=str,
        default=None,
        metavar="R,G,B;R,G,B",
        help="palette: the RGB colours of water, ';'-separated",
    )
    parser.add_argument(
        "--tolerance",
        type=int,
        default=None,
        help="palette: max per-channel difference to a water colour (default 0)",
    )
    return parser


def _options(args: argparse.Namespace) -> Options:
    for dest, formats in FORMAT_OPTIONS.items():
        if getattr(args, dest) is not None and args.format not in formats:
            flag = "--" + dest.replace("_", "-")
            raise ConfigError(f"{flag} is for {', '.join(formats)}, not {args.format}")
    if args.tolerance is not None and args.tolerance < 0:
        raise ConfigError(f"--tolerance must be >= 0, got {args.tolerance}")
    return Options(
        origin=float(args.origin if args.origin is not None else (1 if args.format == "smd-mat" else 0)),
        every=1 if args.every is None else args.every,
        images=args.images,
        masks=args.masks,
        sky_value=args.sky_value,
        water_colors=_colours(args.water_colors) if args.water_colors is not None else (),
        tolerance=args.tolerance or 0,
    )


def _summary(fmt: str, src: Path, done: Converted, split_note: str) -> list[str]:
    lines = [f"{fmt}: {done.n_frames} frame(s) from {src} -> {done.root}"]
    lines.append(
        f"  images: {done.n_copied} copied as they are, {done.n_encoded} written as greyscale PNG "
        "(video frames, colour or other formats)"
    )
    if done.n_lines:
        lines.append(
            f"  masks: 255 = sea below the line; meta.csv: {done.n_lines} line(s), {done.n_in_view} in view"
        )
    else:
        lines.append("  masks: 255 = sea; no horizon lines, no meta.csv")
    if done.splits is None:
        lines.append("  splits: no split files (--split all): evaluate every image with data.split=all")
    else:
        sizes = ", ".join(f"{name} {n}" for name, n in done.splits.items())
        lines.append(f"  splits: {sizes} ({split_note})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Convert, print a summary, the notes and the check's problems; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        opts = _options(args)
        done = convert(
            args.format,
            args.src,
            args.root,
            opts,
            args.overwrite,
            args.split,
            args.split_fractions,
            args.seed,
        )
    except SeaSkyError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_USER_ERROR
    fractions = list(args.split_fractions)
    if args.format == "smd-mat":
        split_note = f"each video in time order, fractions {fractions}"
    else:
        split_note = f"random, fractions {fractions}, seed {args.seed}"
    for line in _summary(args.format, args.src, done, split_note):
        print(line)
    for line in done.notes:
        print(f"note: {line}")
    assert done.check is not None
    return print_check(done.root, done.check)


if __name__ == "__main__":
    sys.exit(main())
