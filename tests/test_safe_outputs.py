"""Safe outputs of predict and evaluate: an earlier run's outputs are refused unless overwrite=true (which
deletes only those); colliding stems, no frames and videos are one-line errors; tiny frames are skipped."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli, write_scene
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.frames import MIN_FRAME_SIZE, SUPPORTED, list_inputs
from seaSky.inference import Predictor
from seaSky.io import MANIFEST, earlier_outputs, record_outputs, recorded_outputs, remove_outputs
from seaSky.model.module import SeaSkyModule
from seaSky.predict import OUTPUTS, predict_folder


def _frames(root: Path, stems: tuple[str, ...] = ("a", "b")) -> Path:
    for i, stem in enumerate(stems):
        write_scene(root, root.parent / "_masks", stem, size=(32, 40), seed=i)
    return root


def _untrained() -> Predictor:
    return Predictor(SeaSkyModule(depth=2, base_channels=4), (32, 40))


def _error_line(done) -> str:
    """The one line an entry point logs for a SeaSkyError (exit status 2, no traceback)."""
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_earlier_outputs_are_found_refused_and_removed(tmp_path: Path) -> None:
    assert earlier_outputs(tmp_path / "missing", OUTPUTS) == []
    assert earlier_outputs(tmp_path, OUTPUTS) == []  # an empty folder is fine
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "old.png").write_bytes(b"x")
    (tmp_path / "horizon.csv").write_text("stem\n")
    (tmp_path / "notes.txt").write_text("mine")
    for overwrite in (False, True):  # not in the folder's manifest: a user's files, never replaced
        with pytest.raises(ConfigError, match=r"holds horizon.csv, masks/, which seaSky did not write"):
            earlier_outputs(tmp_path, OUTPUTS, overwrite=overwrite)
    record_outputs(tmp_path, ["masks", "horizon.csv", "overlays"])
    assert recorded_outputs(tmp_path) == {"masks", "horizon.csv", "overlays"}
    with pytest.raises(ConfigError, match=r"holds the outputs of an earlier run \(horizon.csv, masks/\)"):
        earlier_outputs(tmp_path, OUTPUTS)
    found = earlier_outputs(tmp_path, OUTPUTS, overwrite=True)
    assert sorted(p.name for p in found) == ["horizon.csv", "masks"]
    remove_outputs(found)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "notes.txt"]
    for overwrite in (False, True):  # a file where the output folder should be: refused before any work
        with pytest.raises(ConfigError, match=r"notes.txt: is a file, not a folder; choose another"):
            earlier_outputs(tmp_path / "notes.txt", OUTPUTS, overwrite=overwrite)


@pytest.mark.slow  # three predict CLI runs (21 s); the same refusal via evaluate stays fast: make test-full
def test_predict_cli_refuses_an_earlier_output_dir_and_overwrite_replaces_only_its_outputs(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    frames = _frames(tmp_path / "frames")
    out = tmp_path / "out"
    out.mkdir()  # an existing empty folder is fine
    args = [f"ckpt_path={tiny_checkpoint}", f"input={frames}", f"output_dir={out}"]
    assert run_cli("predict", *args).returncode == 0
    (out / "masks" / "stale.png").write_bytes(b"from an earlier run")
    (out / "notes.txt").write_text("mine")
    before = (out / "horizon.csv").read_text()

    line = _error_line(run_cli("predict", *args))
    assert line == (
        f"{out}: holds the outputs of an earlier run (horizon.csv, masks/, overlays/); pass overwrite=true "
        "to replace them or choose another output_dir"
    )
    assert (out / "masks" / "stale.png").exists() and (out / "horizon.csv").read_text() == before

    done = run_cli("predict", *args, "overwrite=true")
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["a.png", "b.png"]  # stale.png deleted
    assert (out / "notes.txt").read_text() == "mine"  # not predict's: kept
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "horizon.csv",
        "masks",
        "notes.txt",
        "overlays",
    ]


def test_predict_folder_overwrite_never_deletes_its_own_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    frames = _frames(out / "masks")  # the input lies inside an output folder of an earlier run
    record_outputs(out, ["masks"])
    with pytest.raises(ConfigError, match=r"the input lies in .*masks, an output; choose another"):
        predict_folder(_untrained(), frames, out, overwrite=True)
    assert sorted(p.name for p in frames.iterdir()) == ["a.png", "b.png"]
    # a data set's root (images/ beside the user's own masks/): not predict's to replace
    root = tmp_path / "root"
    frames = _frames(root / "images")
    _frames(root / "masks")
    with pytest.raises(ConfigError, match="holds masks/, which seaSky did not write"):
        predict_folder(_untrained(), frames, root, overwrite=True)
    assert sorted(p.name for p in (root / "masks").iterdir()) == ["a.png", "b.png"]


def test_colliding_stems_are_an_error_naming_both_before_anything_is_written(tmp_path: Path) -> None:
    frames = _frames(tmp_path / "frames", ("x", "y"))
    cv2.imwrite(str(frames / "x.tif"), np.full((32, 40), 90, np.uint8))
    with pytest.raises(DataError, match=r"frames: frames with the same stem .* \(x.png and x.tif\)"):
        list_inputs(frames)
    out = tmp_path / "out"
    line = _error_line(run_cli("predict", f"input={frames}", f"output_dir={out}"))
    assert line.startswith(f"{frames}: ") and "x.png and x.tif" in line and "y.png" not in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty", rf"empty: no image frames \({re.escape(SUPPORTED)}\) in it$"),
        ("videos", r"videos: no image frames .* \(clip.mp4 is a video: seaSky.predict takes it as input="),
        ("clip.mp4", r"clip.mp4: a video: seaSky.predict reads videos, .*; supported: .png, .tif"),
        ("notes.txt", r"notes.txt: not an image frame; supported: .png, .tif"),
        ("missing", r"missing: input not found; give an image file \(.png"),
    ],
)
def test_no_input_frames_is_an_error_naming_the_path(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (tmp_path / "videos" / "notes.txt").write_text("not a frame")
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (tmp_path / "notes.txt").write_text("not a frame")
    with pytest.raises(DataError, match=expected):
        list_inputs(tmp_path / name)


def test_predict_cli_on_a_broken_video_file_is_one_line(tmp_path: Path) -> None:
    video = tmp_path / "clip.MP4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    line = _error_line(run_cli("predict", f"input={video}", f"output_dir={tmp_path / 'out'}"))
    assert line.startswith(f"{video}: cannot be opened as a video")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a predict CLI run (8 s)
def test_too_small_frames_are_skipped_with_a_warning(tmp_path: Path, tiny_checkpoint: Path) -> None:
    frames = _frames(tmp_path / "frames", ("a",))
    cv2.imwrite(str(frames / "dot.png"), np.full((1, 1), 100, np.uint8))
    cv2.imwrite(str(frames / "strip.png"), np.full((MIN_FRAME_SIZE - 1, 40), 100, np.uint8))
    cv2.imwrite(str(frames / "edge.png"), np.full((MIN_FRAME_SIZE, MIN_FRAME_SIZE), 100, np.uint8))
    out = tmp_path / "out"
    done = run_cli("predict", f"ckpt_path={tiny_checkpoint}", f"input={frames}", f"output_dir={out}")
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stdout + done.stderr
    assert "dot.png: 1x1 px (width x height), smaller than the 8x8 px minimum" in log
    assert "strip.png: 40x7 px (width x height)" in log
    assert "2 frames -> " in log and "(2 skipped: unreadable or smaller than 8x8 px)" in log
    with open(out / "horizon.csv") as f:
        assert [row["stem"] for row in csv.DictReader(f)] == ["a", "edge"]
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["a.png", "edge.png"]


def test_no_predictable_frame_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "dot.png"), np.full((1, 1), 100, np.uint8))
    (frames / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match=r"frames: none of its 2 frame\(s\) could be predicted"):
        predict_folder(_untrained(), frames, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # with overwrite=true, an earlier run's outputs stay as they were: the new run never started
    earlier = _frames(tmp_path / "earlier" / "masks")
    record_outputs(earlier.parent, ["masks"])
    with pytest.raises(DataError, match=r"frames: none of its 2 frame\(s\) could be predicted"):
        predict_folder(_untrained(), frames, earlier.parent, overwrite=True)
    assert sorted(p.name for p in earlier.iterdir()) == ["a.png", "b.png"]


def _evaluate(*args: str):
    return run_cli("evaluate", "data=folder", "n_worst=2", *args)


@pytest.mark.slow  # three evaluate CLI runs (26 s); tests/test_evaluate_safety.py covers it in-process
def test_evaluate_refuses_a_run_dir_with_earlier_outputs_before_loading(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text('{"old": 1}')
    record_outputs(run, ["results.json"])  # an earlier evaluate's
    (run / "mine.txt").write_text("mine")
    # neither the checkpoint nor the data exist: the refusal comes before they are loaded
    line = _error_line(
        _evaluate(f"ckpt_path={tmp_path / 'nope.ckpt'}", "data.root=nowhere", f"hydra.run.dir={run}")
    )
    assert line.endswith(
        f"{run}: holds the outputs of an earlier run (results.json); pass overwrite=true to replace them or "
        "choose another hydra.run.dir"
    )
    # with overwrite, a checkpoint that cannot be loaded still leaves the earlier outputs in place
    done = _evaluate(f"ckpt_path={tmp_path / 'nope.ckpt'}", f"hydra.run.dir={run}", "overwrite=true")
    assert _error_line(done).endswith("nope.ckpt: checkpoint not found")
    assert json.loads((run / "results.json").read_text()) == {"old": 1}

    root = tmp_path / "data"
    for i in range(20):
        write_scene(root / "images", root / "masks", f"f{i:02d}", seed=i)
    done = _evaluate(
        f"ckpt_path={tiny_checkpoint}", f"data.root={root}", f"hydra.run.dir={run}", "overwrite=true"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test/dice" in json.loads((run / "results.json").read_text())
    assert (run / "per_image.csv").is_file() and (run / "worst.png").is_file()
    assert (run / "mine.txt").read_text() == "mine"


def test_exit_on_error_says_a_missing_value_in_one_line_and_passes_other_errors_on(caplog) -> None:
    import logging

    from hydra.errors import InstantiationException
    from omegaconf import OmegaConf

    log = logging.getLogger("test_exit_on_error")
    cfg = OmegaConf.create({"data": {"root": "???"}})
    from omegaconf.errors import MissingMandatoryValue

    with pytest.raises(MissingMandatoryValue) as raised_by_omegaconf:
        _ = cfg.data.root  # as a config access raises it, with its full key
    missing = raised_by_omegaconf.value
    wrapped = InstantiationException("instantiating data failed")
    wrapped.__cause__ = missing
    for raised in (missing, wrapped):
        with pytest.raises(SystemExit) as stop, exit_on_error(log):
            raise raised
        assert stop.value.code == 2
        assert (
            caplog.records[-1].getMessage()
            == "data.root: no value given; pass data.root=... on the command line"
        )
    other = InstantiationException("no such target")
    other.__cause__ = ImportError("nope")
    with pytest.raises(InstantiationException) as kept, exit_on_error(log):
        raise other
    assert kept.value is other  # not the user's missing value: passed on unchanged


@pytest.mark.slow  # a predict CLI run (7 s); the conversion itself is tested in-process above
def test_a_value_the_command_line_must_give_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_cli("predict", f"output_dir={tmp_path / 'out'}")  # input=??? in conf/predict.yaml
    assert _error_line(done).endswith("input: no value given; pass input=... on the command line")
