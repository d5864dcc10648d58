"""Choose models on real frames: the labelled dev frames of several cameras, scored at each frame's own
size, with the shared sequence's label-free checks beside them as a guard (not the criterion).

- **Dev frames** (``../shared/real-ir-horizon-dev/``, 17 frames, horizon lines in ``lines.csv``): each frame
  through ``Predictor`` as ``seaSky.predict`` runs it, the predicted line against the labelled one at the
  frame's own size (|dy| at the centre column, as ``seaSky.horizon.horizon_error``): median, mean, share
  within 2 px, and the median per kind of view (open sea, coast, harbour).
- **Shared sequence** (``../shared/real-ir-unlabeled/``, 175 frames): ``seaSky.check_footage``'s checks:
  frames with a horizon, jumps above 5 px, mirror Dice min.
- **Water-only views of real water**: every 7th frame of the shared sequence cut below its waterline
  (``shared_sequence_lines.csv``, 30 px below the line's lower end to the bottom) into a left and a right
  crop of 5:4, as a camera pitched down would see that sea: all of each crop is sea. The share of pixels
  called sea (mean, worst crop) and the crops where a horizon is found (should be none).

    python benchmarks/real_dev.py [--ckpt PATH ...] [--names NAME ...] [--table PATH]

Writes ``benchmarks/real_dev.md`` (or ``--table``). The dev frames are for evaluation and model
selection only: nothing here trains on them.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from seaSky import footage
from seaSky.data.folder import read_image
from seaSky.frames import list_inputs, read_batches
from seaSky.horizon import HorizonLine, horizon_error
from seaSky.inference import load_predictor
from seaSky.pretrained import PRETRAINED_CKPT

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEV = SHARED / "real-ir-horizon-dev"
SEQUENCE = SHARED / "real-ir-unlabeled"
TABLE = Path(__file__).with_name("real_dev.md")
SEQUENCE_LINES = Path(__file__).with_name("shared_sequence_lines.csv")
WATER_MARGIN_PX = 30  # crops start this far below the waterline
KINDS = ("open_sea_horizon", "coast_waterline", "harbour")


def dev_labels(dev: Path) -> list[dict]:
    """The dev frames' labelled lines (lines.csv) with their kind of view (frames.csv)."""
    with open(dev / "frames.csv", newline="") as f:
        kinds = {row["file"]: row["kind"] for row in csv.DictReader(f)}
    with open(dev / "lines.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = []
    for row in rows:
        image = read_image(dev / row["file"])
        height, width = image.shape
        x1, y1, x2, y2 = (float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        slope = (y2 - y1) / (x2 - x1)
        line = HorizonLine(y1 - slope * x1, y1 + slope * (width - 1 - x1), width, height)
        kind = kinds.get(row["file"], "?")
        labels.append({"file": row["file"], "kind": kind, "image": image, "line": line})
    return labels


def dev_scores(predictor, labels: list[dict]) -> dict:
    """Horizon errors at each frame's own size: summary, per kind, per frame."""
    results = predictor.predict([x["image"] for x in labels])
    errors = [horizon_error(r.horizon, x["line"]) for r, x in zip(results, labels, strict=True)]
    dy = np.array([e["dy_px"] if e["status"] == "ok" else np.inf for e in errors])
    finite = np.where(np.isfinite(dy), dy, np.nan)
    per_kind = {k: float(np.median(dy[[x["kind"] == k for x in labels]])) for k in KINDS
                if any(x["kind"] == k for x in labels)}  # fmt: skip  # a lost horizon: inf
    return {
        "median": float(np.median(dy)),  # a lost horizon counts as infinitely far
        "mean": float(np.nanmean(finite)),
        "within_2px": float((dy <= 2.0).mean()),
        "lost": int((~np.isfinite(dy)).sum()),
        "per_kind": per_kind,
        "per_frame": {x["file"]: float(d) for x, d in zip(labels, dy, strict=True)},
    }


def sequence_checks(predictor, sequence: Path) -> dict:
    """check_footage's label-free checks on the shared sequence."""
    checks = []
    for batch in read_batches(list_inputs(str(sequence)), 16):
        checks += footage.check_batch(predictor, [(path.stem, image) for path, image in batch])
    return footage.summarize(checks)


def water_crops(sequence: Path, lines_csv: Path, every: int = 7) -> list[np.ndarray]:
    """Water-only views of the sequence's real sea: each ``every``-th labelled frame below its waterline
    (``WATER_MARGIN_PX`` under the line's lower end), cut into a left and a right crop of width 5/4 x
    height."""
    with open(lines_csv, newline="") as f:
        rows = list(csv.DictReader(f))[::every]
    crops = []
    for row in rows:
        image = read_image(sequence / Path(row["file"]).name)
        water = image[int(max(float(row["y1"]), float(row["y2"]))) + WATER_MARGIN_PX :]
        width = min(round(1.25 * water.shape[0]), water.shape[1])
        crops += [water[:, :width], water[:, -width:]]
    return crops


def water_scores(predictor, crops: list[np.ndarray]) -> dict:
    """Share of each crop called sea (mean, worst) and the share of crops with a horizon found."""
    results = predictor.predict(crops)
    sea = [float(np.mean(r.mask > 0)) for r in results]
    return {
        "sea_mean": float(np.mean(sea)),
        "sea_min": float(np.min(sea)),
        "with_horizon": float(np.mean([r.horizon is not None for r in results])),
    }


def table(
    names: list[str], dev: list[dict], seq: list[dict], water: list[dict], n_dev: int, n_seq: int,
    n_water: int,
) -> str:  # fmt: skip
    lines = [
        "# Models on real frames (benchmarks/real_dev.py)",
        "",
        f"Dev frames: {n_dev} labelled frames of several cameras (`../shared/real-ir-horizon-dev/`), horizon "
        "|dy| at the centre column at each frame's own size (a lost horizon counts as a miss). Shared "
        f"sequence: {n_seq} frames of one camera, label-free checks (bars: a horizon in every frame, no jump "
        "above 5 px, mirror Dice min >= 0.99). Water only: "
        f"{n_water} crops of that sequence's sea below its waterline, all sea (share called sea: mean / "
        "worst crop; crops where a horizon is found).",
        "",
        "| model | dev median px | dev within 2 px | dev mean px | open sea / coast / harbour median px "
        "| sequence: with horizon | jumps > 5 px | mirror Dice min | water only: sea | with a horizon |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d, s, w in zip(names, dev, seq, water, strict=True):
        kinds = " / ".join(f"{d['per_kind'].get(k, float('nan')):.2f}" for k in KINDS)
        lines.append(
            f"| {name} | {d['median']:.2f} | {100 * d['within_2px']:.0f} % | {d['mean']:.2f} | {kinds} | "
            f"{100 * s['share_with_horizon']:.0f} % | {s['n_jumps']} | {s['mirror_dice_min']:.4f} | "
            f"{100 * w['sea_mean']:.1f} / {100 * w['sea_min']:.1f} % | {100 * w['with_horizon']:.0f} % |"
        )
    lines += ["", "Per dev frame, |dy| px:", "", "| frame | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]  # fmt: skip
    for frame in dev[0]["per_frame"]:
        lines.append(f"| {frame} | " + " | ".join(f"{d['per_frame'][frame]:.2f}" for d in dev) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, nargs="+", default=[PRETRAINED_CKPT])
    parser.add_argument("--names", nargs="+", help="a heading per --ckpt (default: the paths)")
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--sequence", type=Path, default=SEQUENCE)
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    names = args.names or [str(c) for c in args.ckpt]
    if len(names) != len(args.ckpt):
        sys.exit(f"--names: {len(names)} names for {len(args.ckpt)} checkpoints")
    for folder in (args.dev, args.sequence):
        if not folder.is_dir():
            sys.exit(f"{folder}: no such folder")
    start = time.perf_counter()
    labels = dev_labels(args.dev)
    crops = water_crops(args.sequence, SEQUENCE_LINES)
    dev, seq, water = [], [], []
    for ckpt in args.ckpt:
        predictor = load_predictor(ckpt)
        dev.append(dev_scores(predictor, labels))
        seq.append(sequence_checks(predictor, args.sequence))
        water.append(water_scores(predictor, crops))
    n_seq = len(list_inputs(str(args.sequence)))
    args.table.write_text(table(names, dev, seq, water, len(labels), n_seq, len(crops)) + "\n")
    print(args.table.read_text())
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
