"""Write a rendered data set to disk (images, masks, meta.csv, splits, dataset.json) with a pool of
worker processes, atomically; and the name of a cached set, which changes with every rendering parameter
and with the renderer's source.

An out_dir is written only when it is missing or empty; a set there rendered with the same parameters is
kept, one with other parameters is replaced only with ``overwrite`` (after the new one is complete), and
anything else (a file, a user's folder) is refused and never touched: :func:`folder_state`."""

from __future__ import annotations

import csv
import functools
import glob
import hashlib
import json
import math
import multiprocessing as mp
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seaSky.errors import ConfigError
from seaSky.io import MANIFEST, recorded_outputs
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
    chunk = max(1, min(8, n // (4 * workers) or 1))  # small: the workers end within ~a chunk of each other
    chunks = [list(range(a, min(n, a + chunk))) for a in range(0, n, chunk)]
    if workers == 1:
        yield from map(job, chunks)
        return
    # Spawned, not forked: the caller (e.g. a training process) may run threads whose locks a forked child
    # would inherit held. An executor, not a Pool: a worker that dies raises BrokenProcessPool instead of
    # leaving the parent waiting forever. One cv2 thread per worker, as the workers already fill the cores.
    # (Rendering in this process too, beside one worker fewer, measured a few % slower on 2 cores.)
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


@dataclass(frozen=True)
class RenderedKind:
    """What marks a folder as a set that seaSky rendered: its marker file (JSON with ``generator``) and the
    names that render writes into such a folder (anything else there is a user's)."""

    what: str  # for messages: "a set of stills"
    marker: str
    generator: str
    names: frozenset[str]
    beside: frozenset[str] = frozenset()  # names a folder may hold before a set is rendered into it
    flags: frozenset[str] = frozenset()  # parameters recorded as a name or None, compared as on/off


STILLS = RenderedKind(
    "a set of stills",
    "dataset.json",
    "seaSky.render",
    frozenset(
        {"images", "masks", "splits", "meta.csv", "dataset.json", "stats.json", "stats.png", "preview.png"}
    ),
    beside=frozenset({"preview.png"}),  # a contact sheet from preview=true
)
# the markers of every kind render writes, so that a folder of one kind is named as such, never replaced
MARKERS = {
    "dataset.json": ("seaSky.render", "a set of stills"),
    "sequence.json": ("seaSky.render.sequence", "a sequence"),
}


def dataset_params(
    n: int,
    seed: int = 0,
    scene: SceneConfig | None = None,
    width: int = 320,
    height: int = 256,
    bit_depth: int = 16,
    split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
) -> dict:
    """The parameters of a set of stills, as its dataset.json records them; ConfigError for a bad one."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    if bit_depth not in (8, 16):
        raise ConfigError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    if len(split_fractions) != 3 or min(split_fractions) < 0 or not math.isclose(sum(split_fractions), 1.0):
        raise ConfigError(
            f"split_fractions must be 3 non-negative numbers summing to 1, got {split_fractions!r}"
        )
    render_scene(0, width, height, scene)  # validates sizes and config early, in this process
    cfg = SceneConfig.from_dict({}) if scene is None else scene
    params = {
        "n": int(n),
        "seed": int(seed),
        "width": int(width),
        "height": int(height),
        "bit_depth": int(bit_depth),
        "split_fractions": [float(f) for f in split_fractions],
        "scene": cfg.to_dict(),
    }
    return json.loads(json.dumps(params))  # as read back: lists, not tuples


def folder_state(
    out_dir: str | os.PathLike, kind: RenderedKind, params: dict, overwrite: bool = False
) -> str:
    """What rendering ``params`` into ``out_dir`` does: "new" (missing or empty folder: write it), "keep" (it
    holds this very set) or "replace" (an earlier set of this kind with other parameters, and
    ``overwrite``). ConfigError naming the folder otherwise: other parameters without ``overwrite``; and,
    whatever ``overwrite``, a file, a folder that is not a set of this kind (a user's frames) or a set
    holding files that render does not write there.
    """
    out = Path(out_dir)
    if not out.exists():
        return "new"
    if not out.is_dir():
        raise ConfigError(f"out_dir {out}: is a file, not a folder; choose another out_dir")
    entries = sorted(out.iterdir())
    if all(p.name in kind.beside | {MANIFEST} and p.is_file() for p in entries):
        return "new"  # empty, or only what may stand beside a set (a contact sheet)
    info = _marker(out / kind.marker, kind.generator)
    if info is None:
        raise ConfigError(f"out_dir {out}: {_not_a_set(out, entries, kind)}")
    differs = _differences(params, _recorded(info, params, kind))
    if not differs:
        return "keep"
    ours = kind.names | recorded_outputs(out) | {MANIFEST}
    foreign = [p for p in entries if p.name not in ours]
    if foreign:
        raise ConfigError(
            f"out_dir {out}: holds {kind.what} rendered with other parameters ({differs}) and "
            f"{_names(foreign)}, which seaSky did not write; seaSky never replaces files it did not write "
            "(not even with overwrite=true): move them or choose another out_dir"
        )
    if not overwrite:
        raise ConfigError(
            f"out_dir {out}: holds {kind.what} rendered with other parameters ({differs}); pass "
            "overwrite=true to replace it or choose another out_dir"
        )
    return "replace"


def is_rendered_set(out: Path) -> bool:
    """Whether ``out`` holds a set of stills that seaSky rendered (its dataset.json says so)."""
    return _marker(out / STILLS.marker, STILLS.generator) is not None


def _marker(path: Path, generator: str) -> dict | None:
    """The marker file's JSON when seaSky's ``generator`` wrote it, else None."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("generator") == generator else None


def _not_a_set(out: Path, entries: list[Path], kind: RenderedKind) -> str:
    for marker, (generator, what) in MARKERS.items():
        if marker != kind.marker and _marker(out / marker, generator) is not None:
            return f"holds {what} that seaSky rendered, not {kind.what}; choose another out_dir"
    return (
        f"holds {_names(entries)}, not {kind.what} that seaSky rendered (no {kind.marker} of seaSky's); "
        "seaSky never replaces a folder it did not render (not even with overwrite=true): "
        "choose another out_dir"
    )


def _names(paths: list[Path], most: int = 5) -> str:
    """'a, b/, c' for files and folders, at most ``most`` named."""
    shown = ", ".join(p.name + ("/" if p.is_dir() else "") for p in paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def _recorded(info: dict, params: dict, kind: RenderedKind) -> dict:
    """The parameters an earlier set's marker records, keyed as ``params``."""
    return {k: bool(info.get(k)) if k in kind.flags else info.get(k) for k in params}


def _differences(new: dict, old: dict, most: int = 4) -> str:
    """'n: 6 -> 3, scene.fog_prob: 0.1 -> 0.5' for the parameters that differ; "" when none does."""
    found = []
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            found += [
                f"{key}.{k}: {before.get(k)} -> {value.get(k)}"
                for k in sorted(set(value) | set(before))
                if value.get(k) != before.get(k)
            ]
        elif value != before:
            found.append(f"{key}: {before} -> {value}")
    shown = ", ".join(found[:most])
    return shown + (f" and {len(found) - most} more" if len(found) > most else "")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:32] or "host"


def temp_sibling(out: Path, tag: str) -> Path:
    """``out``'s sibling ``tag`` (tmp: the set being rendered; old: an earlier set being replaced), named
    for this host and process."""
    return out.with_name(f"{out.name}.{tag}-{_host()}-{os.getpid()}")


def remove_stale_temps(out: Path) -> None:
    """Delete the temp siblings of ``out`` that a render on this host left when its process died."""
    for tag in ("tmp", "old"):
        prefix = f"{out.name}.{tag}-{_host()}-"
        for path in out.parent.glob(glob.escape(prefix) + "*"):
            pid = path.name[len(prefix) :]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def install(tmp: Path, out: Path, kind: RenderedKind, params: dict, overwrite: bool) -> Path:
    """Move the complete set in ``tmp`` to ``out``: into a missing or empty folder (or beside a lone
    preview.png, the marker last); over an earlier set (``overwrite``) by renaming it aside first and
    deleting it only once the new one is in place. A set that another process completed meanwhile with
    the same parameters is kept and ``tmp`` dropped."""
    state = folder_state(out, kind, params, overwrite)  # again: another process may have written it
    if state == "keep":
        return out
    if state == "new" and out.is_dir() and any(out.iterdir()):  # beside a contact sheet
        for path in sorted(tmp.iterdir(), key=lambda p: p.name == kind.marker):
            os.replace(path, out / path.name)
        return out
    old = temp_sibling(out, "old")
    if state == "replace":
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        if state == "replace":
            os.replace(old, out)
        if folder_state(out, kind, params, overwrite) == "keep":
            return out  # another process moved the same set in first
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out


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
    *,
    overwrite: bool = False,
) -> Path:
    """Render n scenes into out_dir (images/, masks/, meta.csv, splits/, dataset.json), atomically.

    A set already there with the same parameters is kept (nothing rendered); an earlier set with other
    parameters is refused, or with ``overwrite`` replaced once the new one is complete; anything else in
    out_dir (a file, a folder that is not a rendered set) is a ConfigError and is never touched. See
    :func:`folder_state`.
    """
    from tqdm import tqdm

    params = dataset_params(n, seed, scene, width, height, bit_depth, split_fractions)
    out = Path(out_dir)
    if folder_state(out, STILLS, params, overwrite) == "keep":
        return out
    cfg = SceneConfig.from_dict(params["scene"])
    remove_stale_temps(out)
    tmp = temp_sibling(out, "tmp")
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
        info = {**params, "mask": "255 = sea, 0 = not sea", "generator": STILLS.generator}
        (tmp / "dataset.json").write_text(json.dumps(info, indent=2))
        install(tmp, out, STILLS, params, overwrite)
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
