"""Choose the fine-tune recipe on real frames (issue 24): ten labelled frames of one real camera to train,
later frames of the same camera to score.

The camera is the shared sequence (``../shared/real-ir-unlabeled/``, 175 frames in time order) with the
lines of ``benchmarks/shared_sequence_lines.csv`` (made from the image evidence by
``benchmarks/label_shared_sequence.py``). Per variant of the frames, a labelled folder is built in ``--out``
with ``python -m seaSky.data.convert lines-csv`` and split by hand:

- labelled: 10 frames spread evenly over the first 60 % of the sequence (what a user labels of a camera);
  9 of them train and the middle one validates, as ``data=folder`` itself draws one of ten for validation
  when there is no val split (the best epoch is chosen on it);
- scored: the last 20 % (35 frames), later than every labelled one.

Variants: ``plain`` (the frames as they are) and ``equalised`` (every frame through ``cv2.equalizeHist``,
the labelled ones and the scored ones: a camera that equalises its histogram; the labels are the same).

Every recipe is a list of ``seaSky.train`` overrides after ``data=folder data.root=ROOT``; a fine-tune also
gets ``init_from`` (the shipped model by default), and a recipe may mix N synthetic scenes (the ``default``
preset as 8-bit frames, rendered once into ``--out``) into the training split. Each trained model's best
checkpoint is scored at the frames' own size as ``seaSky.predict`` runs it: Dice of the sea class
(torchmetrics, per frame: mean and min) against the masks convert wrote, and the horizon |dy| at the centre
column (``benchmarks/real_dev.py``'s ``dev_scores``: median, share within 2 px; a lost horizon is a miss).
The wall time is that of the ``seaSky.train`` command (start-up, data, fit, its own test).

    python benchmarks/finetune_proxy.py [--out DIR] [--recipes NAME ...] [--variants plain equalised]
        [--ckpt PATH] [--force] [--table PATH]

Results are kept per recipe and variant in ``--out`` (``<variant>/<recipe>/score.json``): a later call
scores only what is missing (``--force``: again) and writes the table of all recipes scored so far
(``benchmarks/finetune_proxy.md``). Nothing of the frames is written into the repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
from adaptation_proxy import run, shown
from real_dev import SEQUENCE, dev_scores

from seaSky.data.folder import read_image, read_mask
from seaSky.footage import mask_dice
from seaSky.horizon import HorizonLine
from seaSky.inference import load_predictor
from seaSky.pretrained import PRETRAINED_CKPT

LINES = Path(__file__).with_name("shared_sequence_lines.csv")
TABLE = Path(__file__).with_name("finetune_proxy.md")
N_LABELLED, POOL, SCORED_FROM = 10, 0.6, 0.8  # labelled from the first 60 %, scored from 80 % on
N_SYNTHETIC, SYNTHETIC_SEED = 60, 3  # synthetic scenes rendered once (default preset, 8-bit)
VARIANTS = ("plain", "equalised")
ZERO_SHOT = "shipped model, zero-shot"
SCRATCH = ["experiment=baseline", "data=folder", "trainer.max_epochs=40"]
# name -> (seaSky.train overrides, synthetic scenes mixed into training); a recipe without
# experiment=baseline starts from --ckpt (init_from)
RECIPES: dict[str, tuple[list[str], int]] = {
    "from scratch (`experiment=baseline`, 40 epochs)": (SCRATCH, 0),
    "`experiment=finetune` (as shipped before issue 24)": (["experiment=finetune"], 0),
    "finetune, lr 3e-4": (["experiment=finetune", "model.optimizer.lr=3e-4"], 0),
    "finetune, lr 3e-3": (["experiment=finetune", "model.optimizer.lr=3e-3"], 0),
    "finetune, 30 epochs": (["experiment=finetune", "trainer.max_epochs=30"], 0),
    "finetune, encoder frozen": (["experiment=finetune", "model.freeze=encoder"], 0),
    "finetune, no augmentation": (["experiment=finetune", "data/augment=none"], 0),
    "finetune, `data/augment=real`": (["experiment=finetune", "data/augment=real"], 0),
    "finetune, `data/augment=real_equalised`": (["experiment=finetune", "data/augment=real_equalised"], 0),
    "finetune + 40 synthetic scenes, 15 epochs": (["experiment=finetune", "trainer.max_epochs=15"], 40),
    # seed 1: how much of a difference between recipes is the seed's
    "from scratch, seed 1": ([*SCRATCH, "seed=1"], 0),
    "`experiment=finetune`, seed 1": (["experiment=finetune", "seed=1"], 0),
    "finetune, no augmentation, seed 1": (["experiment=finetune", "data/augment=none", "seed=1"], 0),
}  # fmt: skip


def frames_in_order(sequence: Path) -> list[Path]:
    """The sequence's frames in time order (the number after the last ``_``)."""
    frames = sorted(sequence.glob("*.png"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    if not frames:
        raise SystemExit(f"{sequence}: no PNG frames")
    return frames


def choose(n: int) -> dict[str, list[int]]:
    """Frame indices: train and val (the labelled ones) and test (the scored ones)."""
    labelled = np.linspace(0, int(POOL * n) - 1, N_LABELLED).round().astype(int).tolist()
    val = [labelled[len(labelled) // 2]]
    return {
        "train": [i for i in labelled if i not in val],
        "val": val,
        "test": list(range(round(SCORED_FROM * n), n)),
    }


def source_folder(frames: list[Path], lines: Path, folder: Path, variant: str) -> Path:
    """``folder/images`` (the frames, or their equalised copies) + ``folder/lines.csv``: convert's source."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "images").mkdir(parents=True)
    for path in frames:
        if variant == "plain":
            (folder / "images" / path.name).symlink_to(path)
            continue
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise SystemExit(f"{path}: not readable as an image")
        cv2.imwrite(str(folder / "images" / path.name), cv2.equalizeHist(image))
    shutil.copyfile(lines, folder / "lines.csv")
    return folder / "lines.csv"


def labelled_root(frames: list[Path], lines: Path, work: Path, variant: str) -> Path:
    """The variant's labelled folder (convert lines-csv, then the splits of :func:`choose`)."""
    root = work / "root"
    if (root / "splits" / "test.txt").is_file():
        return root
    src = source_folder(frames, lines, work / "source", variant)
    shutil.rmtree(root, ignore_errors=True)
    run("seaSky.data.convert", "lines-csv", str(src), str(root), "--split", "all")
    (root / "splits").mkdir()
    for split, indices in choose(len(frames)).items():
        (root / "splits" / f"{split}.txt").write_text("".join(f"{frames[i].stem}\n" for i in indices))
    return root


def synthetic_scenes(out: Path) -> Path:
    """N_SYNTHETIC scenes of the default preset as 8-bit frames (rendered once)."""
    from seaSky.render.dataset import write_dataset
    from seaSky.render.knobs import load_preset

    return write_dataset(out / "synthetic", n=N_SYNTHETIC, seed=SYNTHETIC_SEED, scene=load_preset("default"),
                         bit_depth=8, progress=False)  # fmt: skip


def mixed_root(root: Path, synthetic: Path, n: int, folder: Path) -> Path:
    """``root`` with n synthetic scenes added to its train split (links, not copies)."""
    shutil.rmtree(folder, ignore_errors=True)
    for name in ("images", "masks"):
        (folder / name).mkdir(parents=True)
        for path in (root / name).iterdir():
            (folder / name / path.name).symlink_to(path.resolve())
    stems = (synthetic / "splits" / "train.txt").read_text().split()[:n]
    for stem in stems:
        image = next((synthetic / "images").glob(f"{stem}.*"))
        (folder / "images" / f"synthetic_{image.name}").symlink_to(image.resolve())
        (folder / "masks" / f"synthetic_{stem}.png").symlink_to(
            (synthetic / "masks" / f"{stem}.png").resolve()
        )
    shutil.copytree(root / "splits", folder / "splits")
    with open(folder / "splits" / "train.txt", "a") as f:
        f.write("".join(f"synthetic_{stem}\n" for stem in stems))
    return folder


def scored_frames(root: Path) -> list[dict]:
    """The test frames of ``root`` with their masks and lines, as ``real_dev.dev_scores`` takes them."""
    with open(root / "meta.csv", newline="") as f:
        meta = {row["stem"]: row for row in csv.DictReader(f)}
    labels = []
    for stem in (root / "splits" / "test.txt").read_text().split():
        image = read_image(next((root / "images").glob(f"{stem}.*")))
        height, width = image.shape
        row = meta[stem]
        line = HorizonLine(float(row["line_y_left"]), float(row["line_y_right"]), width, height)
        mask = read_mask(root / "masks" / f"{stem}.png")
        labels.append({"file": stem, "kind": "sequence", "image": image, "line": line, "mask": mask})
    return labels


def score(ckpt: Path, labels: list[dict]) -> dict:
    """Dice (per frame, torchmetrics) and horizon errors of the model on the scored frames."""
    predictor = load_predictor(ckpt)
    horizon = dev_scores(predictor, labels)
    results = predictor.predict([x["image"] for x in labels])
    dice = [mask_dice(r.mask, x["mask"]) for r, x in zip(results, labels, strict=True)]
    return {
        "dice": float(np.mean(dice)), "dice_min": float(np.min(dice)), "median": horizon["median"],
        "within_2px": horizon["within_2px"], "lost": horizon["lost"],
    }  # fmt: skip


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def train_and_score(
    name: str, root: Path, out: Path, ckpt: Path, labels: list[dict], synthetic: Path
) -> dict:
    overrides, n_synthetic = RECIPES[name]
    if n_synthetic:
        root = mixed_root(root, synthetic, n_synthetic, out / "root")
    init = [] if "experiment=baseline" in overrides else [f"init_from={ckpt}"]
    run_dir = out / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    wall = run("seaSky.train", *overrides, *init, "data=folder", f"data.root={root}", "logger=csv",
               f"hydra.run.dir={run_dir}")  # fmt: skip
    results = json.loads((run_dir / "results.json").read_text())
    return {**score(Path(results["ckpt_best"]), labels), "wall": wall}


def row(name: str, scores: dict[str, dict]) -> str:
    cells = []
    for variant in VARIANTS:
        s = scores.get(variant)
        if s is None:
            cells.append("- | - | - | - | -")
            continue
        wall = "-" if s["wall"] is None else f"{s['wall']:.0f}"
        wall += f" ({s['fit']:.0f})" if s.get("fit") is not None else ""
        lost = f" ({s['lost']} lost)" if s["lost"] else ""
        cells.append(f"{s['dice']:.4f} | {s['dice_min']:.4f} | {s['median']:.2f}{lost} | "
                     f"{100 * s['within_2px']:.0f} % | {wall}")  # fmt: skip
    overrides, n_synthetic = RECIPES.get(name, ([], 0))
    recipe = " ".join(overrides) + (f" + {n_synthetic} synthetic scenes in train" if n_synthetic else "")
    return f"| {name} | " + " | ".join(cells) + (f" | `{recipe}` |" if recipe else " | |")


def write_table(out: Path, ckpt: Path, n_frames: int, table: Path) -> None:
    split = choose(n_frames)
    names = [ZERO_SHOT, *RECIPES]
    lines = [
        "# Fine-tune recipes on real frames (benchmarks/finetune_proxy.py)",
        "",
        f"One real camera: the shared sequence ({n_frames} frames, `../shared/real-ir-unlabeled/`) with the "
        "lines of `benchmarks/shared_sequence_lines.csv`. Labelled: frames "
        f"{', '.join(str(i) for i in sorted(split['train'] + split['val']))} (0-based, of the first "
        f"{POOL:.0%}), of which frame {split['val'][0]} validates; scored: the last {len(split['test'])} "
        f"frames ({split['test'][0]}-{split['test'][-1]}), at their own size (640x512). Equalised: every "
        "frame through `cv2.equalizeHist` (labelled and scored). Model fine-tuned: "
        f"{shown(ckpt)}. Wall s: the `seaSky.train` command (in brackets: its fit alone) on this "
        "machine's 2 CPU cores, shared with other jobs while measured (times are inflated and noisy).",
        "",
        "| recipe | Dice | Dice min | median \\|dy\\| px | within 2 px | wall s | Dice (eq.) "
        "| Dice min (eq.) | median \\|dy\\| px (eq.) | within 2 px (eq.) | wall s (eq.) | overrides |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        scores = {}
        for variant in VARIANTS:
            path = out / variant / slug(name) / "score.json"
            if path.is_file():
                scores[variant] = json.loads(path.read_text())
                run_results = path.parent / "run" / "results.json"  # the fit's own seconds, when trained
                if run_results.is_file():
                    scores[variant]["fit"] = json.loads(run_results.read_text()).get("train_seconds")
        if scores:
            lines.append(row(name, scores))
    table.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/finetune_proxy"))
    parser.add_argument("--sequence", type=Path, default=SEQUENCE)
    parser.add_argument("--lines", type=Path, default=LINES)
    parser.add_argument("--ckpt", type=Path, default=PRETRAINED_CKPT, help="the model to fine-tune")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), help="recipe names (RECIPES)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--force", action="store_true", help="train and score again what was scored")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    unknown = [name for name in args.recipes if name not in RECIPES]
    if unknown:
        sys.exit(f"--recipes: unknown {unknown}; known: {list(RECIPES)}")
    out = args.out.resolve()
    frames = frames_in_order(args.sequence)
    synthetic = synthetic_scenes(out) if any(RECIPES[n][1] for n in args.recipes) else out / "synthetic"
    for variant in args.variants:
        work = out / variant
        root = labelled_root(frames, args.lines, work, variant)
        labels = scored_frames(root)
        for name in [ZERO_SHOT, *args.recipes]:
            path = work / slug(name) / "score.json"
            if path.is_file() and not args.force:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if name == ZERO_SHOT:
                result = {**score(args.ckpt, labels), "wall": None}
            else:
                result = train_and_score(name, root, path.parent, args.ckpt, labels, synthetic)
            path.write_text(json.dumps(result, indent=1) + "\n")
            print(f"{variant} | {name}: {json.dumps(result)}", flush=True)
    write_table(out, args.ckpt, len(frames), args.table)


if __name__ == "__main__":
    main()
