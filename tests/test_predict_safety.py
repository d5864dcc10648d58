"""predict never replaces a user's files (only what an earlier seaSky run recorded in OUT's manifest), reads
a folder named by digits as a folder, checks device and sequence-only settings before any work, honours
overlay=false for still frames, and its --help lists only its own options."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from conftest import run_cli, write_scene
from seaSky.cli import typed_text
from seaSky.errors import ConfigError
from seaSky.inference import Predictor, check_device
from seaSky.io import MANIFEST, recorded_outputs
from seaSky.model.module import SeaSkyModule
from seaSky.paths import CONFIG_DIR
from seaSky.predict import check_settings, predict_folder


def _untrained() -> Predictor:
    return Predictor(SeaSkyModule(depth=2, base_channels=4), (32, 40))


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _user_folder(root: Path) -> Path:
    """A user's labelled set (images/, their own masks/) and raw frames beside it, as in issue 23."""
    for i in range(2):
        write_scene(root / "images", root / "masks", f"f{i}", seed=i)
        write_scene(root / "raw", root.parent / "_unused", f"r{i}", seed=10 + i)
    (root / "notes.txt").write_text("my labelling notes")
    return root


def _error_line(done) -> str:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def predict_cfg() -> Iterator[Callable[..., DictConfig]]:
    """Compose conf/predict.yaml as the command line would (HydraConfig set: the overrides as typed)."""

    def make(*overrides: str) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose("predict", overrides=list(overrides), return_hydra_config=True)
        HydraConfig().set_config(cfg)
        return cfg

    yield make
    GlobalHydra.instance().clear()


@pytest.mark.parametrize("overwrite", [False, True])
def test_predict_never_replaces_a_users_own_masks(tmp_path: Path, overwrite: bool) -> None:
    mydata = _user_folder(tmp_path / "mydata")
    before = _snapshot(mydata)
    with pytest.raises(ConfigError) as err:
        predict_folder(_untrained(), mydata / "raw", mydata, overwrite=overwrite)
    assert str(err.value) == (
        f"{mydata}: holds masks/, which seaSky did not write (or a seaSky older than its record of outputs, "
        f"{MANIFEST}); seaSky never replaces files it did not write (not even with overwrite=true): move "
        "them or choose another output_dir"
    )
    assert "earlier run" not in str(err.value)  # the user's labels are not an earlier run's outputs
    assert _snapshot(mydata) == before and not (mydata / MANIFEST).exists()


@pytest.mark.slow  # a CLI run (6 s); the in-process test checks the same files byte for byte
def test_predict_cli_with_overwrite_keeps_every_file_of_a_users_folder(tmp_path: Path) -> None:
    mydata = _user_folder(tmp_path / "mydata")
    before = _snapshot(mydata)
    done = run_cli("predict", f"input={mydata / 'raw'}", f"output_dir={mydata}", "overwrite=true")
    assert _error_line(done).startswith(f"{mydata}: holds masks/, which seaSky did not write")
    assert _snapshot(mydata) == before


def test_a_second_predict_replaces_only_the_first_ones_outputs(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    for i in range(2):
        write_scene(frames, tmp_path / "_unused", f"a{i}", seed=i)
    out = tmp_path / "out"
    predict_folder(_untrained(), frames, out)
    assert recorded_outputs(out) == {"horizon.csv", "masks", "overlays"}
    (out / "mine.txt").write_text("mine")
    with pytest.raises(
        ConfigError, match=r"holds the outputs of an earlier run \(horizon.csv, masks/, overlays/"
    ):
        predict_folder(_untrained(), frames, out)
    (out / "masks" / "a0.png").write_bytes(b"stale")
    predict_folder(_untrained(), frames, out, overwrite=True)
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["a0.png", "a1.png"]
    assert (out / "masks" / "a0.png").read_bytes() != b"stale"
    assert (out / "mine.txt").read_text() == "mine"


def test_an_earlier_runs_masks_beside_images_are_refused_as_a_data_sets_labels(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for i in range(2):
        write_scene(root / "images", tmp_path / "_unused", f"f{i}", seed=i)
    predict_folder(_untrained(), root / "images", root)  # pseudo-labels beside the frames: allowed once
    before = _snapshot(root)
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match=r"its masks/ sits beside images/ like a data set's labels"):
            predict_folder(_untrained(), root / "images", root, overwrite=overwrite)
    assert _snapshot(root) == before


def test_overwrite_keeps_the_earlier_outputs_when_the_run_cannot_start(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_scene(frames, tmp_path / "_unused", "a", seed=0)
    out = tmp_path / "out"
    predict_folder(_untrained(), frames, out)
    before = _snapshot(out)
    done = run_cli(
        "predict",
        f"ckpt_path={tmp_path / 'nope.ckpt'}",
        f"input={frames}",
        f"output_dir={out}",
        "overwrite=true",
    )
    assert _error_line(done).endswith("nope.ckpt: checkpoint not found")
    assert _snapshot(out) == before


def test_overlay_false_writes_no_overlays_for_still_frames(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_scene(frames, tmp_path / "_unused", "a", seed=0)
    out = tmp_path / "out"
    predict_folder(_untrained(), frames, out, overlay=False)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "horizon.csv", "masks"]
    assert recorded_outputs(out) == {"horizon.csv", "masks"}


@pytest.mark.parametrize("value", ["2024", "1e3", "-1", "true", "007"])
def test_path_keys_are_read_as_typed(predict_cfg, value: str) -> None:
    cfg = predict_cfg(f"input={value}", f"output_dir={value}", f"ckpt_path={value}")
    assert [typed_text(cfg, key) for key in ("input", "output_dir", "ckpt_path")] == [value] * 3
    assert typed_text(predict_cfg("input=x", "output_dir=y"), "ckpt_path") is None


def test_a_folder_named_by_digits_is_a_folder_and_a_missing_one_a_camera(
    tmp_path: Path, predict_cfg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_scene(tmp_path / "2024", tmp_path / "_unused", "a", seed=0)
    write_scene(tmp_path / "1e3", tmp_path / "_unused", "a", seed=0)
    for name in ("2024", "1e3"):
        cfg = predict_cfg(f"input={name}", "output_dir=2025")
        assert check_settings(cfg) is False  # still frames of the folder
        assert cfg.input == name and cfg.output_dir == "2025"
    assert check_settings(predict_cfg("input=3", "output_dir=out")) is True  # no such path: camera 3


@pytest.mark.slow  # a CLI run (7 s); the in-process test above reads the same names
def test_predict_cli_reads_a_folder_named_by_digits(tmp_path: Path, tiny_checkpoint: Path) -> None:
    write_scene(tmp_path / "2024", tmp_path / "_unused", "a", seed=0)
    done = run_cli("predict", f"ckpt_path={tiny_checkpoint}", "input=2024", "output_dir=1e3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "1e3" / "masks" / "a.png").is_file()


def test_cuda_without_a_gpu_is_one_line_before_any_work(
    tmp_path: Path, predict_cfg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0"):
        with pytest.raises(ConfigError) as err:  # input does not exist: the device is checked first
            check_settings(predict_cfg(f"input={tmp_path / 'none'}", "output_dir=out", f"device={device}"))
        assert str(err.value) == f"device={device}: no CUDA GPU is available here; use device=cpu"
    with pytest.raises(ConfigError, match="device=gpu: not a device; use device=cpu or device=cuda"):
        check_device("gpu")
    assert check_device("CPU") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert check_device("cuda:0") == "cuda:0"
    with pytest.raises(ConfigError, match=r"device=cuda:1: no such CUDA GPU \(1 here: cuda:0 to cuda:0\)"):
        check_device("cuda:1")


@pytest.mark.parametrize(
    ("setting", "key"),
    [("tracker.gate_px=3", "tracker.gate_px"), ("fps=5", "fps"), ("save_masks=video", "save_masks")],
)
def test_sequence_settings_for_still_frames_are_refused(tmp_path: Path, predict_cfg, setting, key) -> None:
    write_scene(tmp_path / "frames", tmp_path / "_unused", "a", seed=0)
    with pytest.raises(ConfigError) as err:
        check_settings(predict_cfg(f"input={tmp_path / 'frames'}", "output_dir=out", setting))
    assert str(err.value).startswith(f"{setting}: a setting of sequences only")
    assert str(err.value).endswith("read as still frames; drop it or pass sequence=true")
    # the same setting for a sequence, defaults and save_masks=png for still frames: fine
    assert check_settings(
        predict_cfg(f"input={tmp_path / 'frames'}", "output_dir=o", setting, "sequence=true")
    )
    for fine in ("tracker.gate_px=10.0", "save_masks=png", "overlay=false"):
        assert not check_settings(predict_cfg(f"input={tmp_path / 'frames'}", "output_dir=o", fine))
    with pytest.raises(ConfigError, match="overlay must be true or false, got 'sometimes'"):
        check_settings(predict_cfg(f"input={tmp_path / 'frames'}", "output_dir=o", "overlay=sometimes"))


@pytest.mark.parametrize("name", ["predict", "export"])
def test_help_template_lists_every_option_of_the_command_and_no_other(name: str) -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(name, return_hydra_config=True)
    GlobalHydra.instance().clear()
    template = cfg.hydra.help.template
    options = [key for key in cfg if key != "hydra"]
    assert options and all(f"  {key}" in template for key in options)
    assert "Configuration groups" not in template and "trainer" not in template


@pytest.mark.slow  # a CLI run (7 s); the help template is tested through compose
def test_predict_help_shows_the_short_usage(tmp_path: Path) -> None:
    done = run_cli("predict", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Predict sea masks") and "  output_dir " in done.stdout
    assert "== Configuration groups ==" not in done.stdout and "callbacks" not in done.stdout
