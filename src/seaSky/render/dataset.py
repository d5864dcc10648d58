"""Write a rendered data set to disk (images, masks, meta.csv, splits, dataset.json) with a pool of
worker processes, atomically; and the name of a cached set, which changes with every rendering parameter
and with the renderer's source."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from seaSky.errors import ConfigError
from seaSky.render.knobs import SceneConfig
from seaSky.render.pipeline import render_scene

RENDER_PACKAGE = Path(__file__).resolve().parent

PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1]
META_FIRST = [
    "stem",
    "scene_seed",
    "y_left",
    "y_right",
    "horizon_angle_deg",
    "horizon_max_dev_px",
    "horizon_contrast_sigma",
    "polarity",
    "sea_fraction",
    "noise_sigma_counts",
]


def scene_seed(seed: int, index: int) -> int:
    """Seed of scene `index` of a data set: independent of n and of the number of workers."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0])


def worker_count(workers: int | None) -> int:
    """Worker processes to render with: all cores for None, else at least 1."""
    return len(os.sched_getaffinity(0)) if workers is None else max(1, int(workers))


def map_chunks(job: Callable[[list[int]], list], n: int, workers: int) -> Iterator[list]:
    """``job`` over the indices 0..n-1 in chunks, the results chunk by chunk in order: in this process for
    one worker, else in a pool of ``workers`` processes."""
    chunk = max(1, min(32, n // (4 * workers) or 1))
    chunks = [list(range(a, min(n, a + chunk))) for a in range(0, n, chunk)]
    if workers == 1:
        yield from map(job, chunks)
        return
    # Spawned, not forked: the caller (e.g. a training process) may run threads whose locks a forked child
    # would inherit held. An executor, not a Pool: a worker that dies raises BrokenProcessPool instead of
    # leaving the parent waiting forever. One cv2 thread per worker, as the workers already fill the cores.
    with ProcessPoolExecutor(
        workers, mp_context=mp.get_context("spawn"), initializer=cv2.setNumThreads, initargs=(1,)
    ) as pool:
        yield from pool.map(job, chunks)


def _render_chunk(
    indices: list[int], tmp_dir: str, seed: int, cfg: dict, width: int, height: int, bit_depth: int
) -> list[dict]:
    scene_cfg = SceneConfig.from_dict(cfg)
    rows = []
    for i in indices:
        s_seed = scene_seed(seed, i)
        sc = render_scene(s_seed, width, height, scene_cfg)
        stem = f"syn_{i:06d}"
        img = sc.image if bit_depth == 16 else sc.display()
        for sub, arr in (("images", img), ("masks", sc.mask * np.uint8(255))):
            if not cv2.imwrite(os.path.join(tmp_dir, sub, stem + ".png"), arr, PNG_FAST):
                raise OSError(f"could not write {sub}/{stem}.png in {tmp_dir}")
        rows.append({"stem": stem, "scene_seed": s_seed, **sc.meta})
    return rows


def write_dataset(
    out_dir: str | os.PathLike,
    n: int,
    seed: int = 0,
    scene: SceneConfig | None = None,
    width: int = 320,
    height: int = 256,
    bit_depth: int = 16,
    split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Render n scenes into out_dir (images/, masks/, meta.csv, splits/, dataset.json), atomically."""
    from tqdm import tqdm

    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    if bit_depth not in (8, 16):
        raise ConfigError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    if len(split_fractions) != 3 or min(split_fractions) < 0 or not math.isclose(sum(split_fractions), 1.0):
        raise ConfigError(
            f"split_fractions must be 3 non-negative numbers summing to 1, got {split_fractions!r}"
        )
    render_scene(0, width, height, scene)  # validates sizes and config early, in this process
    cfg = SceneConfig.from_dict({}) if scene is None else scene
    out = Path(out_dir)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("images", "masks", "splits"):
        (tmp / sub).mkdir(parents=True)
    workers = worker_count(workers)
    job = functools.partial(
        _render_chunk,
        tmp_dir=str(tmp),
        seed=seed,
        cfg=cfg.to_dict(),
        width=width,
        height=height,
        bit_depth=bit_depth,
    )
    rows: list[dict] = []
    try:
        with tqdm(total=n, desc=f"render {out.name}", unit="img", disable=not progress) as bar:
            for part in map_chunks(job, n, workers):
                rows += part
                bar.update(len(part))
        rows.sort(key=lambda r: r["stem"])
        write_meta(tmp / "meta.csv", rows)
        perm = np.random.default_rng(seed).permutation(n)
        n_train = round(split_fractions[0] * n)
        n_val = round(split_fractions[1] * n)
        parts = {
            "train": perm[:n_train],
            "val": perm[n_train : n_train + n_val],
            "test": perm[n_train + n_val :],
        }
        for name, idx in parts.items():
            (tmp / "splits" / f"{name}.txt").write_text("".join(f"syn_{i:06d}\n" for i in sorted(idx)))
        info = {
            "n": n,
            "seed": seed,
            "width": width,
            "height": height,
            "bit_depth": bit_depth,
            "split_fractions": list(split_fractions),
            "scene": cfg.to_dict(),
            "mask": "255 = sea, 0 = not sea",
            "generator": "seaSky.render",
        }
        (tmp / "dataset.json").write_text(json.dumps(info, indent=2))
        if (out / "dataset.json").is_file():
            return out  # another process completed the same set meanwhile: keep it, drop ours
        if out.exists():
            shutil.rmtree(out)  # an incomplete set
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_meta(path: Path, rows: list[dict], first: Sequence[str] = META_FIRST) -> None:
    """meta.csv: the ``first`` columns, then the rest in the first row's order; None as ""."""
    keys = list(first) + [k for k in rows[0] if k not in first]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in keys})


def read_meta(out_dir: str | os.PathLike) -> list[dict]:
    """meta.csv of a rendered set as a list of dicts (strings)."""
    with open(Path(out_dir) / "meta.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def renderer_fingerprint() -> str:
    """Hash of the renderer's source files: a changed renderer never reuses a stale cache."""
    digest = hashlib.sha1()
    for path in sorted(RENDER_PACKAGE.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_set_name(n: int, seed: int, width: int, height: int, bit_depth: int, scene: Mapping) -> str:
    """Folder name of a cached set: its size and seed, and a hash of every rendering parameter (the scene
    knobs normalised through SceneConfig, so [24, 60] and [24.0, 60.0] share one set) and of the renderer."""
    render = {
        "n": int(n),
        "seed": int(seed),
        "height": int(height),
        "width": int(width),
        "bit_depth": int(bit_depth),
        "scene": SceneConfig.from_dict(scene).to_dict(),
    }
    key = json.dumps({**render, "renderer": renderer_fingerprint()}, sort_keys=True)
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"{width}x{height}_{bit_depth}bit_n{n}_seed{seed}_{digest}"
