"""Adaptation to one camera (issue 11), measured the way a user meets it: one fixed camera looking at one
place, a few of its early frames labelled, the later frames scored.

Each "camera" is a synthetic sequence (``seaSky.render.sequence``) of one scene the shipped model was not
trained on, at 2 frames/s (300 frames, 150 s) from a mast that sways a little, as 8-bit frames of the
scene's own camera pipeline. Frames 0-59 are the labelled pool (10 labelled: every 6th; 50: the first 50),
60-79 validation, 200-299 the test frames every row is scored on (Dice of the sea class; horizon |dy| at
the centre column, median). ``seaSky.adapt`` gets frames 0-199 without their masks.

The cameras stand for the failures the real-footage issue saw: a beach camera at dusk over a surf zone,
a harbour seen from a boat, open sea under glare. Their seeds are those where the shipped model did worst
among the first 12 of each kind with at least 20 % of the frame sea (Dice of a sliver of sea is
mostly its boundary) (``--screen`` prints that screen).

    python benchmarks/adaptation_cameras.py --screen
    python benchmarks/adaptation_cameras.py [--out DIR] [--ckpt PATH] [--labels 10 50] [--no-adapt]
        [--recipes 0 1 2 3] [--table PATH]

Writes ``benchmarks/adaptation_cameras.md`` (the table) and every run under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from adaptation_proxy import evaluate, linked_folder, linked_images, run, scores, shown

from seaSky.inference import load_predictor
from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.render.knobs import SceneConfig
from seaSky.render.sequence import SequenceConfig, plan_sequence, render_frame, write_sequence

N_FRAMES, FPS = 300, 2.0
MIN_SEA = 0.2  # the screen picks scenes with at least this share of sea in view
LABELLED_POOL, VAL, UNLABELLED, TEST = range(60), range(60, 80), range(200), range(200, 300)
TABLE = Path(__file__).with_name("adaptation_cameras.md")
# a camera on a mast: sways a little, keeps its own height, nothing passes in front of it
MAST = SequenceConfig(roll_amplitude_deg=0.5, pitch_amplitude_deg=0.25, camera_height_m=None, spoilers=())
ONLY = {"shore_prob": 0.0, "harbour_prob": 0.0, "glare_prob": 0.0, "own_vessel_prob": 0.0}
KINDS: dict[str, tuple[dict, tuple[int, int]]] = {  # scene knobs, (width, height)
    "beach at dusk": ({**ONLY, "shore_prob": 1.0, "dusk_prob": 1.0, "night_prob": 0.0}, (384, 288)),
    "harbour from a boat": ({**ONLY, "harbour_prob": 1.0}, (320, 256)),
    "open sea under glare": ({**ONLY, "glare_prob": 1.0, "land_prob": 0.0}, (320, 256)),
}
SEEDS = {"beach at dusk": 5, "harbour from a boat": 7, "open sea under glare": 7}
# name -> train.py overrides after data.root (the data set) and the model to start from; the study rows
# (STUDY) run on 10 labelled frames only
RECIPES: dict[str, list[str]] = {
    "finetune": ["experiment=finetune"],
    "previous finetune (decoder only, domain randomisation, 30 epochs)": [
        "experiment=finetune", "model.freeze=encoder", "data/augment=real", "trainer.max_epochs=30"],
    "finetune with domain randomisation (lr 3e-4)": [
        "experiment=finetune", "data/augment=real", "model.optimizer.lr=3e-4"],
    "scratch (`experiment=baseline data=folder`, 40 epochs)": [
        "experiment=baseline", "data=folder", "trainer.max_epochs=40"],
}  # fmt: skip
STUDY = list(RECIPES)[1:3]


def scene_of(kind: str) -> SceneConfig:
    return SceneConfig.from_dict(KINDS[kind][0])


def screen(ckpt: Path, seeds: range, frames: tuple[int, ...] = (0, 40, 80, 120)) -> None:
    """Pooled Dice of the model on a few frames of each kind's sequences, per seed."""
    predictor = load_predictor(ckpt)
    for kind, (_, (width, height)) in KINDS.items():
        row = []
        for seed in seeds:
            plan = plan_sequence(seed, N_FRAMES, width, height, scene_of(kind), MAST, FPS)
            inter = total = sea = 0
            for i in frames:
                scene = render_frame(plan, i)
                pred = predictor.predict([scene.display()])[0].mask.astype(bool)
                truth = scene.mask.astype(bool)
                inter += int((pred & truth).sum())
                total += int(pred.sum() + truth.sum())
                sea += truth.mean() / len(frames)
            row.append((2 * inter / max(total, 1), sea))
        print(f"{kind}: Dice (sea share) by seed: " + " ".join(f"{d:.3f} ({s:.2f})" for d, s in row))
        dice = [d if s >= MIN_SEA else np.inf for d, s in row]
        print(f"  worst with sea share >= {MIN_SEA}: seed {seeds[int(np.argmin(dice))]}")


def stems(frames: range | list[int]) -> list[str]:
    """The stems of a rendered sequence's frames."""
    return [f"{i:06d}" for i in frames]


def folder(frames: Path, root: Path, train: list[int]) -> Path:
    """A folder data set over a rendered sequence: the given training frames, VAL and TEST (links)."""
    return linked_folder(frames, root, {"train": stems(train), "val": stems(VAL), "test": stems(TEST)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/adaptation_cameras"))
    parser.add_argument("--ckpt", type=Path, default=PRETRAINED_CKPT, help="the model to adapt")
    parser.add_argument("--screen", action="store_true", help="only print the screen of seeds 0-11")
    parser.add_argument("--labels", nargs="+", type=int, default=[10, 50], choices=[10, 50])
    parser.add_argument("--no-adapt", action="store_true", help="skip seaSky.adapt")
    parser.add_argument(
        "--recipes",
        nargs="+",
        type=int,
        default=list(range(len(RECIPES))),
        help="which recipes to train, as indices into RECIPES (0 = finetune; default all)",
    )
    parser.add_argument("--table", type=Path, default=TABLE, help="where the markdown table goes")
    args = parser.parse_args()
    if args.screen:
        screen(args.ckpt, range(12))
        return
    out = args.out.resolve()
    rows: dict[str, dict[str, tuple[dict, float]]] = {}
    start = time.perf_counter()
    for kind, (_, (width, height)) in KINDS.items():
        cam = out / kind.replace(" ", "_")
        frames = cam / "frames"
        if not (frames / "sequence.json").is_file():
            write_sequence(frames, N_FRAMES, SEEDS[kind], scene_of(kind), MAST, width, height, FPS, 8)
        roots = {k: folder(frames, cam / f"labelled_{k}", list(LABELLED_POOL)[:: 6 if k == 10 else 1][:k])
                 for k in args.labels}  # fmt: skip
        first = roots[min(roots)]
        result = rows.setdefault(kind, {})
        result["zero-shot"] = (evaluate(args.ckpt, first, cam / "zero_shot"), 0.0)
        if not args.no_adapt:
            frames_in = linked_images(frames, cam / "unlabelled", stems(UNLABELLED))
            shutil.rmtree(cam / "adapt", ignore_errors=True)  # no earlier run's report or model
            # exit status 2: no model (too few trustworthy frames, or round 1 made the label-free
            # checks worse; a report either way), or a user error
            wall = run("seaSky.adapt", f"input={frames_in}", f"output_dir={cam / 'adapt'}",
                       f"ckpt_path={args.ckpt}", "overwrite=true", ok=(0, 2))  # fmt: skip
            adapted = cam / "adapt" / "model.ckpt"
            report_path = cam / "adapt" / "adapt.json"
            report = json.loads(report_path.read_text()) if report_path.is_file() else {}
            if not adapted.is_file():
                if report.get("status") not in ("refused", "worse"):
                    raise SystemExit(f"seaSky.adapt failed on {frames_in}: see its output in {cam / 'adapt'}")
                result[f"`seaSky.adapt`, {len(UNLABELLED)} unlabelled"] = (report, wall)
            else:
                adapted_scores = evaluate(adapted, first, cam / "adapt_eval")
                result[f"`seaSky.adapt`, {len(UNLABELLED)} unlabelled"] = (adapted_scores, wall)
        for k, root in roots.items():
            for i, (name, recipe) in enumerate(RECIPES.items()):
                if i not in args.recipes or (name in STUDY and k != 10):
                    continue
                run_dir = cam / f"recipe{i}_{k}"
                init = [] if "experiment=baseline" in recipe else [f"init_from={args.ckpt}"]
                wall = run("seaSky.train", *recipe, *init, f"data.root={root}", "logger=csv",
                           f"hydra.run.dir={run_dir}")  # fmt: skip
                result[f"{name}, {k} labelled"] = (scores(run_dir / "results.json"), wall)
        print(json.dumps({kind: {k: v[0] for k, v in result.items()}}))
    write_table(rows, args.ckpt, time.perf_counter() - start, args.table)


def write_table(rows: dict[str, dict[str, tuple[dict, float]]], ckpt: Path, wall: float, table: Path) -> None:
    kinds = list(rows)
    command = " ".join(["python benchmarks/adaptation_cameras.py", *sys.argv[1:]])
    names = list(dict.fromkeys(name for result in rows.values() for name in result))
    lines = [
        f"Adaptation to one camera: {N_FRAMES}-frame synthetic sequences at {FPS:g} frames/s of one scene",
        f"each, scored on frames {TEST.start}-{TEST.stop - 1} (Dice of the sea class /",
        "horizon median |dy| px / wall time s).",
        f"Model adapted: {shown(ckpt)}.",
        f"`{command}`, {wall:.0f} s on this machine.",
        "Recipes: " + "; ".join(f"{name}: `{' '.join(ov)}`" for name, ov in RECIPES.items()) + ".",
        "`experiment=finetune` is: every layer trains, light augmentation (`data/augment=default`),",
        "lr 1e-3, 60 epochs, batch 4.",
        "",
        "| | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for name in names:
        cells = []
        for kind in kinds:
            if name not in rows[kind]:
                cells.append("-")
                continue
            score, secs = rows[kind][name]
            if score.get("status") == "refused":  # seaSky.adapt: too few trustworthy frames
                cells.append(f"refused: {score['n_used']} of {score['n_frames']} frames trustworthy")
                continue
            if score.get("status") == "worse":  # seaSky.adapt: round 1 made the checks worse
                worse = "; ".join(score["rounds"][0]["worse"])
                cells.append(f"no model: round 1 made the label-free checks worse ({worse})")
                continue
            dy = f"{score['dy']:.2f}" if score["dy"] is not None else "-"
            cells.append(f"{score['dice']:.4f} / {dy} / {secs:.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
