"""Speed as users meet it (issue 25), measured in one run and written as a section of
``benchmarks/results.md`` (replacing the section of an earlier run; ``make bench`` runs it after
``bench_models.py``, which rewrites the rest of the file):

- start-up: ``python -m seaSky.predict`` on one frame, wall time, minus ``python -c "import torch, cv2"``
  (medians of ``--repeats`` runs each);
- a busy computer: ``python -m seaSky.predict`` on a 640x512 video with overlay.mp4 written (the 175 real
  frames of ``../shared/real-ir-unlabeled`` forth, back and forth: 525 frames), end-to-end frames/s as the
  command logs it, quiet and with another program (a Python busy loop) taking one core, in turn;
- rendering: ``python -m seaSky.render n=1500`` (default preset, all cores), scenes/s of the whole command;
- int8: ``python -m seaSky.export quantize=int8`` of the shipped model against its float32 export: mask
  agreement and horizon difference on the shared real frames, and frames/s of the whole predict path
  without file I/O (as ``bench_predict.py``) at batch 1 and 16.

Run: python benchmarks/bench_speed.py [--repeats 3] [--render-n 1500] [--out benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_FRAMES = REPO.parent / "shared" / "real-ir-unlabeled"
DEFAULT_OUT = REPO / "benchmarks" / "results.md"
BEGIN, END = "<!-- bench_speed: begin -->", "<!-- bench_speed: end -->"
PY = sys.executable


def wall(args: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds a command takes, and its result (an error if it fails)."""
    start = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True, cwd=REPO, **kwargs)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return seconds, run


def startup(frame: Path, out: Path, repeats: int) -> dict:
    """Median wall times of the bare import and of predict on one frame."""
    bare = [wall([PY, "-c", "import torch, cv2"])[0] for _ in range(repeats)]
    predict = [
        wall([PY, "-m", "seaSky.predict", f"input={frame}", f"output_dir={out}", "overwrite=true"])[0]
        for _ in range(repeats)
    ]
    return {"bare": statistics.median(bare), "predict": statistics.median(predict)}


def make_clip(path: Path, passes: int = 3) -> int:
    """The real frames forth, back, forth (... ``passes`` times) as a 640x512 mp4v video; its frames."""
    files = sorted(SHARED_FRAMES.glob("*.png"))
    if not files:
        raise SystemExit(f"{SHARED_FRAMES}: no frames (the shared real frames are needed)")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (640, 512))
    order = [files if i % 2 == 0 else files[::-1] for i in range(passes)]
    for file in (f for part in order for f in part):
        frame = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
        writer.write(cv2.cvtColor(cv2.resize(frame, (640, 512)), cv2.COLOR_GRAY2BGR))
    writer.release()
    return passes * len(files)


def video_fps(clip: Path, out: Path, busy: bool, extra: tuple[str, ...] = ()) -> float:
    """End-to-end frames/s that ``seaSky.predict`` logs for the clip; ``busy``: with a busy loop beside it."""
    hog = subprocess.Popen([PY, "-c", "while True: pass"]) if busy else None
    try:
        _, run = wall(
            [PY, "-m", "seaSky.predict", f"input={clip}", f"output_dir={out}", "overwrite=true", *extra]
        )
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    found = re.search(r"\(([\d.]+) frames/s end to end", run.stdout + run.stderr)
    if not found:
        raise RuntimeError(f"no frames/s in predict's log:\n{run.stdout[-1000:]}{run.stderr[-1000:]}")
    return float(found.group(1))


def render_rate(n: int, out: Path) -> dict:
    """Scenes per second of the whole ``python -m seaSky.render n=N`` command (default preset, all cores),
    its seconds, and the start-up it pays: the same command for one scene in one process (imports, Hydra,
    the check render, one scene)."""
    one = out.with_name(out.name + "_one")
    startup, _ = wall([PY, "-m", "seaSky.render", "n=1", f"out_dir={one}", "progress=false", "workers=1"])
    seconds, _ = wall([PY, "-m", "seaSky.render", f"n={n}", f"out_dir={out}", "progress=false"])
    return {"rate": n / seconds, "seconds": seconds, "startup": startup}


def predict_fps(predictor, frames: list[np.ndarray], batch: int, min_s: float = 2.0) -> float:
    """Frames/s of the whole predict path without file I/O (3 warm-up calls, then at least ``min_s``)."""
    for _ in range(3):
        predictor.predict(frames[:batch])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_s:
        for i in range(0, len(frames), batch):
            predictor.predict(frames[i : i + batch])
            done += len(frames[i : i + batch])
    return done / (time.perf_counter() - start)


def int8_rows(tmp: Path) -> dict:
    """Export float32 and int8, then agreement on the shared frames and speed of both."""
    from seaSky.data.folder import read_image
    from seaSky.frames import list_inputs
    from seaSky.inference import OnnxPredictor

    seconds = {}
    for kind in ("none", "int8"):
        seconds[kind], _ = wall([PY, "-m", "seaSky.export", f"out={tmp / kind}.onnx", f"quantize={kind}"])
    fp32, int8 = OnnxPredictor(tmp / "none.onnx"), OnnxPredictor(tmp / "int8.onnx")
    frames = [read_image(path) for path in list_inputs(SHARED_FRAMES)]
    agree, moved, lost = [], [], 0
    for frame in frames:
        a, b = fp32.predict([frame])[0], int8.predict([frame])[0]
        agree.append(float((a.mask == b.mask).mean()))
        if a.horizon and b.horizon:
            moved.append(
                max(abs(a.horizon.y_left - b.horizon.y_left), abs(a.horizon.y_right - b.horizon.y_right))
            )
        elif (a.horizon is None) != (b.horizon is None):
            lost += 1
    engines = (("float32", fp32), ("int8", int8))
    speed = {(name, batch): predict_fps(p, frames[:64], batch) for name, p in engines for batch in (1, 16)}
    return {
        "frames": len(frames), "agree_mean": float(np.mean(agree)), "agree_min": float(np.min(agree)),
        "moved_max": max(moved, default=0.0), "moved_median": float(np.median(moved)) if moved else 0.0,
        "lost": lost, "speed": speed, "export_s": seconds,
        "size": {k: (tmp / f"{k}.onnx").stat().st_size for k in ("none", "int8")},
    }  # fmt: skip


def report(r: dict, args: argparse.Namespace, started: str, load: tuple[float, float], wall_s: float) -> str:
    start = r["startup"]
    above = start["predict"] - start["bare"]
    quiet, loaded = statistics.median(r["quiet"]), statistics.median(r["loaded"])
    q = r["int8"]
    lines = [
        BEGIN,
        "## Speed as users meet it",
        "",
        f"`python benchmarks/bench_speed.py --repeats {args.repeats} --render-n {args.render_n}` (run by "
        f"`make bench`), {started}, took {wall_s / 60:.1f} min; {os.cpu_count()} logical CPUs, load average "
        f"{load[0]:.2f} at the start and {load[1]:.2f} at the end (other work on the machine slows every "
        "figure; the ratios are measured within this run, each pair back to back).",
        "",
        "| what | measured | bar |",
        "|---|---|---|",
        "| `python -m seaSky.predict` on one 640x512 frame, wall time above "
        f"`python -c \"import torch, cv2\"` "
        f"(medians of {args.repeats}) | {above:.2f} s ({start['predict']:.2f} s vs {start['bare']:.2f} s) "
        "| <= 1.5 s |",
        f"| video, {r['clip_frames']} frames 640x512, overlay.mp4 written: with a busy loop on one core "
        f"against quiet (medians of {len(r['quiet'])} pairs) | {loaded:.1f} vs {quiet:.1f} frames/s "
        f"({100 * loaded / quiet:.0f} %) | >= 60 % |",
        f"| `python -m seaSky.render n={args.render_n}` default preset, whole command | "
        f"{r['render']['rate']:.1f} scenes/s ({r['render']['seconds']:.1f} s; start-up: the command for "
        f"one scene in one process takes {r['render']['startup']:.2f} s) | >= 150 scenes/s |",
        "",
        "Video pairs (quiet/busy frames/s): "
        + ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(r["quiet"], r["loaded"], strict=True)),
        "",
        "### int8 (`python -m seaSky.export quantize=int8`) against float32 ONNX, the shipped model",
        "",
        f"On the {q['frames']} shared real frames (`../shared/real-ir-unlabeled`, never used to calibrate): "
        f"mask agreement {100 * q['agree_mean']:.3f} % on average, {100 * q['agree_min']:.3f} % on the worst "
        f"frame (bar >= 99.5 %); horizon moved {q['moved_median']:.3f} px median, {q['moved_max']:.3f} px at "
        f"most (bar <= 0.5 px); {q['lost']} frame(s) with a line in one and not the other. Files: float32 "
        f"{q['size']['none'] / 1e6:.2f} MB, int8 {q['size']['int8'] / 1e6:.2f} MB; export "
        f"{q['export_s']['none']:.1f} s and {q['export_s']['int8']:.1f} s (calibration included).",
        "",
        "| ONNX Runtime | fps, batch 1 | fps, batch 16 |",
        "|---|---|---|",
        *(f"| {k} | {q['speed'][(k, 1)]:.1f} | {q['speed'][(k, 16)]:.1f} |" for k in ("float32", "int8")),
        "",
        "fps: the whole predict path without file I/O (normalisation, the network, resizing back, the "
        "horizon fit) on the first 64 shared frames, as `benchmarks/bench_predict.py` times it.",
        END,
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` in place of an earlier run's, else at the end."""
    text = path.read_text() if path.is_file() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="start-up runs and video pairs")
    parser.add_argument("--render-n", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    begin, load_start = time.perf_counter(), os.getloadavg()[0]
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    results: dict = {"quiet": [], "loaded": []}
    with tempfile.TemporaryDirectory(prefix="bench_speed_") as name:
        tmp = Path(name)
        one = tmp / "one"
        one.mkdir()
        frame = sorted(SHARED_FRAMES.glob("*.png"))[0]
        (one / frame.name).write_bytes(frame.read_bytes())
        results["startup"] = startup(one / frame.name, tmp / "one_out", args.repeats)
        print("start-up", results["startup"], flush=True)
        results["clip_frames"] = make_clip(tmp / "clip.mp4")
        for _ in range(args.repeats):
            results["quiet"].append(video_fps(tmp / "clip.mp4", tmp / "video", busy=False))
            results["loaded"].append(video_fps(tmp / "clip.mp4", tmp / "video", busy=True))
            print("video quiet/busy", results["quiet"][-1], results["loaded"][-1], flush=True)
        results["render"] = render_rate(args.render_n, tmp / "render")
        print("render", results["render"], flush=True)
        results["int8"] = int8_rows(tmp)
        print("int8", results["int8"], flush=True)
    section = report(results, args, started, (load_start, os.getloadavg()[0]), time.perf_counter() - begin)
    write_section(args.out, section)
    print(section)


if __name__ == "__main__":
    main()
