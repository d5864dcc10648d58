"""Atomic file writing: a reader never sees a half-written file, and an old file survives a crash.

Light on purpose (no torch or Lightning import): command-line tools start fast.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seaSky.errors import ConfigError


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(path: str | Path, rows: Sequence[dict], columns: Sequence[str]) -> Path:
    """Write ``rows`` as CSV with a header of ``columns`` (other keys ignored), atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write(path, lambda tmp: tmp.write_text(buffer.getvalue()))


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


MANIFEST = ".seaSky-outputs.json"


def recorded_outputs(folder: str | Path) -> set[str]:
    """Names in ``folder`` that seaSky created there (its manifest); empty when there is no manifest."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return set()
    names = data.get("outputs") if isinstance(data, dict) else None
    return {str(name) for name in names} if isinstance(names, list) else set()


def record_outputs(folder: str | Path, names: Sequence[str]) -> None:
    """Add ``names`` (files or folders a run is about to create in ``folder``) to its manifest, atomically.

    Call it before writing them, so that a run cut short still leaves them recorded as seaSky's. Only what
    the manifest names may be replaced by a later ``overwrite=true``; a folder named there is seaSky's with
    all it holds.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(recorded_outputs(folder) | {str(name) for name in names})
    write_json(folder / MANIFEST, {"written_by": "seaSky", "outputs": names})


def earlier_outputs(
    folder: str | Path, names: Sequence[str], overwrite: bool = False, other: str = "output_dir"
) -> list[Path]:
    """The ``names`` (files or folders) that already exist in ``folder``: outputs of an earlier run.

    Raises ConfigError naming the folder and them unless ``overwrite``; ``other`` is the key that picks
    another folder, for the message. Whatever ``overwrite``, a ConfigError too for any of them that seaSky
    did not write there (not in the folder's manifest, see :func:`record_outputs`): a user's own files are
    never replaced. An empty or missing folder has none. A file in the folder's place raises ConfigError
    whatever ``overwrite`` (before any work, not when the first output is written).
    """
    if Path(folder).exists() and not Path(folder).is_dir():
        raise ConfigError(f"{folder}: is a file, not a folder; choose another {other}")
    found = [Path(folder) / name for name in names if (Path(folder) / name).exists()]
    ours = recorded_outputs(folder)
    foreign = [p for p in found if p.name not in ours]
    if foreign:
        listed = ", ".join(p.name + ("/" if p.is_dir() else "") for p in foreign)
        raise ConfigError(
            f"{folder}: holds {listed}, which seaSky did not write (or a seaSky older than its record of "
            f"outputs, {MANIFEST}); seaSky never replaces files it did not write (not even with "
            f"overwrite=true): move them or choose another {other}"
        )
    if found and not overwrite:
        listed = ", ".join(p.name + ("/" if p.is_dir() else "") for p in found)
        raise ConfigError(
            f"{folder}: holds the outputs of an earlier run ({listed}); pass overwrite=true to replace "
            f"them or choose another {other}"
        )
    return found


def check_replaceable(path: Path, overwrite: bool, key: str, what: str) -> None:
    """ConfigError naming ``key=path`` when the file ``path`` exists and may not be replaced: seaSky did not
    write it (whatever ``overwrite``), or it did (``what``: "an earlier export") and not ``overwrite``."""
    if not (path.exists() or path.is_symlink()):
        return
    if path.name not in recorded_outputs(path.parent):
        raise ConfigError(
            f"{key}={path}: exists and seaSky did not write it; seaSky never replaces files it did not write "
            f"(not even with overwrite=true): choose another {key}"
        )
    if not overwrite:
        raise ConfigError(
            f"{key}={path}: exists ({what}); pass overwrite=true to replace it or choose another {key}"
        )


def remove_outputs(paths: Sequence[Path]) -> None:
    """Delete these files and folders (folders with all they hold): an earlier run's outputs."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
