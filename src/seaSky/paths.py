"""Where the package finds its Hydra configs (``conf/``).

In a source checkout (``pip install -e .``) they are the repository's top-level ``conf/``; an installed
wheel carries the same files as ``seaSky/conf`` (``pyproject.toml`` maps ``conf/`` there), so the entry
points work from any directory. Light on purpose: nothing heavy is imported here.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _config_dir() -> Path:
    packaged = PACKAGE_DIR / "conf"
    if (packaged / "train.yaml").is_file():
        return packaged  # an installed wheel
    return PACKAGE_DIR.parents[1] / "conf"  # a source checkout: <repo>/src/seaSky -> <repo>/conf


CONFIG_DIR = _config_dir()
PRESET_DIR = CONFIG_DIR / "preset"
