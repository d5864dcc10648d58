"""The adaptation proxy (issue 11): a camera the shipped model was not trained for, stood in for by the
synthetic `hard` preset as 8-bit camera frames. Scores on the same 80 held-out frames:

- the shipped model zero-shot;
- after ``seaSky.adapt`` on 200 unlabelled frames;
- after ``experiment=finetune`` on 10 and on 50 labelled frames;
- a model trained from scratch (``experiment=baseline data=folder``, 40 epochs) on the same 10 and 50.

    python benchmarks/adaptation_proxy.py [--out DIR] [--ckpt PATH]

Writes ``benchmarks/adaptation_proxy.md`` (the table) and every run under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from seaSky.pretrained import PRETRAINED_CKPT
from seaSky.render.dataset import write_dataset
from seaSky.render.knobs import load_preset

N_SCENES, SEED = 800, 11  # 640 / 80 / 80 split by the renderer
N_VAL, N_UNLABELLED = 20, 200
TABLE = Path(__file__).with_name("adaptation_proxy.md")
NO_MODEL = {  # seaSky.adapt's report status -> the table's cell when it wrote no model
    "refused": "no model: too few trustworthy frames",
    "worse": "no model: round 1 made the label-free checks worse",
}


def run(*args: str, ok: tuple[int, ...] = (0,)) -> float:
    """``python -m seaSky.<args>``; its wall time (s). Raises on an exit status not in ``ok``."""
    start = time.perf_counter()
    env = {**os.environ, "WANDB_MODE": "offline"}
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env)
    if done.returncode not in ok:
        raise SystemExit(f"failed: {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def split(root: Path, name: str) -> list[str]:
    return (root / "splits" / f"{name}.txt").read_text().split()


def linked_folder(full: Path, root: Path, splits: dict[str, list[str]]) -> Path:
    """A folder data set over ``full``'s files (links, not copies) with the given split stems."""
    if (root / "splits").is_dir():
        return root
    (root / "splits").mkdir(parents=True)
    for name in ("images", "masks", "meta.csv"):
        (root / name).symlink_to(full / name)
    for name, stems in splits.items():
        (root / "splits" / f"{name}.txt").write_text("\n".join(stems) + "\n")
    return root


def linked_images(full: Path, folder: Path, stems: list[str]) -> Path:
    """The images of ``full`` with these stems, without masks, in ``folder`` (links)."""
    if folder.is_dir():
        return folder
    folder.mkdir(parents=True)
    for stem in stems:
        image = next((full / "images").glob(f"{stem}.*"))
        (folder / image.name).symlink_to(image)
    return folder


def labelled_folder(full: Path, root: Path, n_train: int) -> Path:
    """n_train training frames of ``full``, N_VAL validation frames and its whole test split."""
    chosen = {
        "train": split(full, "train")[:n_train],
        "val": split(full, "val")[:N_VAL],
        "test": split(full, "test"),
    }
    return linked_folder(full, root, chosen)


def unlabelled_frames(full: Path, folder: Path) -> Path:
    """N_UNLABELLED training frames of ``full`` without masks (links)."""
    # the last ones: not the labelled ones at the start
    return linked_images(full, folder, split(full, "train")[-N_UNLABELLED:])


def shown(path: Path) -> str:
    """``path`` relative to the working directory where it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def scores(results_json: Path) -> dict:
    results = json.loads(results_json.read_text())
    return {"dice": results["test/dice"], "dy": results.get("test/horizon_dy_median_px")}


def evaluate(ckpt: Path, root: Path, out: Path) -> dict:
    run("seaSky.evaluate", f"ckpt_path={ckpt}", "data=folder", f"data.root={root}", f"hydra.run.dir={out}",
        "overwrite=true")  # fmt: skip
    return scores(out / "results.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/adaptation_proxy"))
    parser.add_argument("--ckpt", type=Path, default=PRETRAINED_CKPT, help="the model to adapt")
    args = parser.parse_args()
    out = args.out.resolve()
    full = out / "hard"
    if not (full / "dataset.json").is_file():
        write_dataset(full, n=N_SCENES, seed=SEED, scene=load_preset("hard"), bit_depth=8)
    roots = {k: labelled_folder(full, out / f"labelled_{k}", k) for k in (10, 50)}
    rows: list[tuple[str, dict, float]] = []

    start = time.perf_counter()
    rows.append(("shipped model, zero-shot", evaluate(args.ckpt, roots[10], out / "eval_zero_shot"), 0.0))
    frames = unlabelled_frames(full, out / "unlabelled")
    # exit status 2: no model (too few trustworthy frames, or round 1 made the label-free checks worse)
    shutil.rmtree(out / "adapt", ignore_errors=True)  # no earlier run's report or model
    wall = run("seaSky.adapt", f"input={frames}", f"output_dir={out / 'adapt'}", f"ckpt_path={args.ckpt}",
               "overwrite=true", ok=(0, 2))  # fmt: skip
    report_path = out / "adapt" / "adapt.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    if report.get("status") not in ("adapted", *NO_MODEL):
        raise SystemExit(f"seaSky.adapt failed on {frames}: see its output in {out / 'adapt'}")
    if report["status"] == "adapted":
        adapted = evaluate(out / "adapt" / "model.ckpt", roots[10], out / "eval_adapt")
    else:
        adapted = {"no model": NO_MODEL[report["status"]]}
    rows.append((f"`seaSky.adapt` on {N_UNLABELLED} unlabelled frames", adapted, wall))
    for k, root in roots.items():
        for name, recipe in (
            ("`experiment=finetune`", ["experiment=finetune", f"init_from={args.ckpt}"]),
            ("from scratch (`experiment=baseline data=folder`, 40 epochs)",
             ["experiment=baseline", "data=folder", "trainer.max_epochs=40"]),
        ):  # fmt: skip
            run_dir = out / f"{recipe[0].split('=')[1]}_{k}"
            wall = run("seaSky.train", *recipe, f"data.root={root}", "logger=csv", f"hydra.run.dir={run_dir}")
            rows.append((f"{name}, {k} labelled frames", scores(run_dir / "results.json"), wall))
    lines = [
        f"Adaptation proxy: the `hard` preset as 8-bit camera frames ({N_SCENES} scenes, seed {SEED});",
        f"every row scored on the same {len(split(full, 'test'))} held-out frames (Dice of the sea class;",
        f"horizon |dy| at the centre column, median). Model: {shown(args.ckpt)}.",
        f"`python benchmarks/adaptation_proxy.py`, {time.perf_counter() - start:.0f} s on this machine.",
        "",
        "| | Dice | horizon median \\|dy\\| (px) | wall time (s) |",
        "|---|---|---|---|",
    ]
    for name, score, wall in rows:
        if "no model" in score:
            lines.append(f"| {name} | {score['no model']} | - | {wall:.0f} |")
            continue
        dy = f"{score['dy']:.2f}" if score["dy"] is not None else "-"
        lines.append(f"| {name} | {score['dice']:.4f} | {dy} | {wall:.0f} |")
    TABLE.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
