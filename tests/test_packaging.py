"""The wheel carries every module, the Hydra configs and the pretrained model, and the installed package
runs its entry points from any directory (not only from a source checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import TINY, write_scene

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the sources (the build writes into its source tree)."""
    src = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("src", "conf"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (built,) = dist.glob("seasky-*.whl")
    return built


def test_wheel_holds_every_module_config_and_the_pretrained_model(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {f"seaSky/{p.relative_to(REPO / 'src/seaSky')}" for p in (REPO / "src/seaSky").rglob("*.py")}
    configs = {
        f"seaSky/conf/{p.relative_to(REPO / 'conf')}"
        for p in (REPO / "conf").rglob("*.yaml")
        if p.parent.name != "local"
    }
    assert "seaSky/render/pipeline.py" in modules and "seaSky/conf/preset/default.yaml" in configs
    assert modules - names == set()
    assert configs - names == set()
    assert {"seaSky/pretrained/model.ckpt", "seaSky/conf/train.yaml", "seaSky/py.typed"} <= names
    assert not [n for n in names if n.startswith("seaSky/conf/local/")]


def test_installed_package_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site, wheel],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "WANDB_MODE": "offline"}

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    where = run("-c", "import seaSky, seaSky.paths as p; print(seaSky.__file__); print(p.CONFIG_DIR)")
    package_file, config_dir = where.stdout.split()
    assert Path(package_file).is_relative_to(site) and Path(config_dir) == site / "seaSky" / "conf"

    write_scene(elsewhere / "frames", elsewhere / "masks", "f0", size=(48, 64))
    run("-m", "seaSky.predict", "input=frames", "output_dir=pred")  # the pretrained model in the package
    assert (elsewhere / "pred" / "masks" / "f0.png").is_file()
    run("-m", "seaSky.train", *TINY, "debug=fdr", "hydra.run.dir=run")
    assert (elsewhere / "run" / "results.json").is_file()
    run("-m", "seaSky.render", "out_dir=scenes", "preview=true", "preview_n=2", "width=40", "height=32")
    assert (elsewhere / "scenes" / "preview.png").is_file()
