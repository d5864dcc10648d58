"""ONNX export of a tiny trained model: ONNX Runtime agrees with PyTorch at any batch and image size
(odd ones included), the metadata rebuilds the preprocessing, and the CLI writes one file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from seaSky.errors import CheckpointError, ConfigError
from seaSky.export import MIN_OPSET, PRETRAINED_OUT, export_onnx, max_opset, read_metadata, written_opset
from seaSky.io import MANIFEST, recorded_outputs


@pytest.fixture(scope="module")
def exported(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The session's tiny U-Net (conftest), exported to the default path beside its checkpoint."""
    ckpt = tmp_path_factory.mktemp("export") / "tiny.ckpt"
    shutil.copyfile(tiny_checkpoint, ckpt)
    onnx_path = export_onnx(ckpt)
    return {"ckpt": ckpt, "onnx": onnx_path}


@pytest.fixture(scope="module")
def session(exported: dict) -> ort.InferenceSession:
    return ort.InferenceSession(str(exported["onnx"]), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def module(exported: dict) -> torch.nn.Module:
    from seaSky.model.module import SeaSkyModule

    return SeaSkyModule.load_from_checkpoint(exported["ckpt"], map_location="cpu").eval()


def scenes(batch: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Random-ish normalised frames in [0, 1]: a bright/dark split at a random row, a gradient, noise."""
    rng = np.random.default_rng(seed)
    rows = np.arange(height)[:, None] / max(height - 1, 1)
    cols = np.arange(width)[None, :] / max(width - 1, 1)
    images = []
    for _ in range(batch):
        horizon = rng.uniform(0.3, 0.7)
        image = np.where(rows > horizon, 0.3, 0.7) + 0.2 * (cols - 0.5) * rng.uniform(-1, 1)
        images.append(np.clip(image + rng.normal(0, 0.05, (height, width)), 0, 1))
    return np.stack(images)[:, None].astype(np.float32)


def test_export_writes_beside_the_checkpoint_with_dynamic_names(exported: dict) -> None:
    assert exported["onnx"] == exported["ckpt"].with_suffix(".onnx") and exported["onnx"].is_file()
    assert not list(exported["onnx"].parent.glob("*.tmp")), "temporary files left behind"
    import onnx

    model = onnx.load(str(exported["onnx"]))
    for value in (*model.graph.input, *model.graph.output):
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        assert dims == ["batch", 1, "height", "width"], (value.name, dims)
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["logits"]


# the export used batch 2 and a 48x64 example: other batches, and odd sizes the pads must handle
@pytest.mark.parametrize(
    ("batch", "height", "width"), [(3, 32, 40), (3, 67, 71), (3, 96, 131), (1, 33, 17), (5, 7, 9)]
)
def test_onnx_runtime_matches_pytorch(
    session: ort.InferenceSession, module: torch.nn.Module, batch: int, height: int, width: int
) -> None:
    images = scenes(batch, height, width, seed=height * width)
    with torch.no_grad():
        expected = module(torch.from_numpy(images)).numpy()
    (logits,) = session.run(["logits"], {"image": images})
    assert logits.shape == expected.shape == (batch, 1, height, width)
    assert expected.std() > 1e-3, "logits almost constant: the comparison would prove little"
    diff = float(np.abs(logits - expected).max())
    print(f"{batch}x{height}x{width}: max abs diff {diff:.2e}")
    assert diff < 1e-4


def test_metadata_rebuilds_preprocessing(exported: dict, session: ort.InferenceSession) -> None:
    ckpt = torch.load(exported["ckpt"], map_location="cpu", weights_only=True)
    data, hparams = ckpt["datamodule_hyper_parameters"], ckpt["hyper_parameters"]
    meta = read_metadata(exported["onnx"])
    assert meta["image_size"] == [32, 40] == list(data["image_size"])
    assert meta["normalize"] == dict(data["normalize"]) and meta["normalize"]["mode"] == "percentile"
    assert meta["threshold"] == pytest.approx(hparams["threshold"])
    assert meta["hyper_parameters"]["arch"] == "unet" and meta["hyper_parameters"]["depth"] == 2
    # ONNX Runtime alone (no onnx package, no seaSky) sees the same strings
    raw = session.get_modelmeta().custom_metadata_map
    assert json.loads(raw["normalize"]) == meta["normalize"] and float(raw["threshold"]) == meta["threshold"]


def test_missing_or_unreadable_checkpoint_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nope.ckpt: checkpoint not found"):
        export_onnx(tmp_path / "nope.ckpt", tmp_path / "nope.onnx")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.ckpt: not a readable checkpoint") as err:
        export_onnx(bad, tmp_path / "bad.onnx")
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ckpt"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seaSky.export", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # the export CLI (12 s); export_onnx is tested in-process
def test_cli_writes_only_the_onnx_file(tmp_path: Path, exported: dict) -> None:
    done = _cli(f"ckpt_path={exported['ckpt']}", "format=onnx", "out=model.onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.onnx" in done.stdout and " kB" in done.stdout
    # no run dir, .hydra folder or log file: only the output in the working directory, and the note that
    # seaSky wrote it (a later overwrite=true may replace it)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "model.onnx"]
    assert recorded_outputs(tmp_path) == {"model.onnx"}
    assert read_metadata(tmp_path / "model.onnx")["image_size"] == [32, 40]


def test_cli_unknown_format_fails_with_one_line(tmp_path: Path, exported: dict) -> None:
    done = _cli(f"ckpt_path={exported['ckpt']}", "format=tflite", cwd=tmp_path)
    assert done.returncode == 2
    out = (done.stdout + done.stderr).strip()
    assert out == "format must be one of ['onnx'], got 'tflite'"
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_smp_unet_exports_too(tmp_path: Path) -> None:
    """smp's Unet (ResNet encoder) through the same path; a checkpoint saved without a datamodule."""
    import lightning

    from seaSky.model.module import SeaSkyModule

    torch.manual_seed(0)
    net_module = SeaSkyModule(arch="smp_unet", depth=3, base_channels=8).eval()
    ckpt = tmp_path / "smp.ckpt"
    torch.save(
        {
            "state_dict": net_module.state_dict(),
            "hyper_parameters": dict(net_module.hparams),
            "pytorch-lightning_version": lightning.__version__,
        },
        ckpt,
    )
    meta = read_metadata(export_onnx(ckpt))
    assert "image_size" not in meta and meta["hyper_parameters"]["arch"] == "smp_unet"
    session = ort.InferenceSession(str(tmp_path / "smp.onnx"), providers=["CPUExecutionProvider"])
    for batch, height, width in ((3, 32, 40), (1, 64, 96)):
        images = scenes(batch, height, width)
        with torch.no_grad():
            expected = net_module(torch.from_numpy(images)).numpy()
        (logits,) = session.run(["logits"], {"image": images})
        assert float(np.abs(logits - expected).max()) < 1e-4


def test_onnx_predictor_matches_the_pytorch_predictor(exported: dict) -> None:
    from seaSky.inference import OnnxPredictor, Predictor

    frames = [scenes(1, h, w, seed=h)[0, 0] * 16000.0 for h, w in ((64, 80), (67, 71), (120, 96))]
    by_torch = Predictor.from_checkpoint(exported["ckpt"]).predict(frames)
    by_onnx = OnnxPredictor(exported["onnx"]).predict(frames)
    for t, o in zip(by_torch, by_onnx, strict=True):
        assert t.prob.shape == o.prob.shape
        assert float(np.abs(t.prob - o.prob).max()) < 1e-4


def _predict_cli(ckpt: Path, frames: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seaSky.predict", f"ckpt_path={ckpt}", f"input={frames}", f"output_dir={out}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow  # two predict CLI runs (20 s); the ONNX predictor itself is checked above: make test-full
def test_predict_cli_runs_an_exported_onnx_model(tmp_path: Path, exported: dict) -> None:
    import cv2

    from conftest import write_scene

    frames = tmp_path / "frames"
    for i in range(3):
        write_scene(frames, tmp_path / "masks", f"f{i}", size=(45 + 7 * i, 61), seed=i)
    done = {}
    for kind in ("ckpt", "onnx"):
        run = _predict_cli(exported[kind], frames, tmp_path / kind)
        assert run.returncode == 0, run.stderr[-2000:]
        done[kind] = [cv2.imread(str(tmp_path / kind / "masks" / f"f{i}.png"), 0) for i in range(3)]
    for by_torch, by_onnx in zip(done["ckpt"], done["onnx"], strict=True):
        assert by_onnx.shape == by_torch.shape and (by_onnx == by_torch).mean() > 0.999
    assert (tmp_path / "onnx" / "horizon.csv").read_text().count("\n") == 4
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    run = _predict_cli(bad, frames, tmp_path / "bad")
    assert run.returncode == 2 and "bad.onnx: not a readable ONNX model" in run.stdout + run.stderr


def test_onnx_predictor_rejects_bad_metadata_in_one_line(tmp_path: Path, exported: dict) -> None:
    import onnx

    from seaSky.inference import OnnxPredictor

    for key, value in (("image_size", "[32, oops"), ("normalize", "[1, 99]")):
        model = onnx.load(str(exported["onnx"]))
        (entry,) = [e for e in model.metadata_props if e.key == key]
        entry.value = value
        path = tmp_path / f"bad_{key}.onnx"
        onnx.save(model, str(path))
        with pytest.raises(CheckpointError, match=f"bad_{key}.onnx: bad seaSky metadata") as err:
            OnnxPredictor(path)
        assert "\n" not in str(err.value)


def _no_export(*args, **kwargs):
    raise AssertionError("the checkpoint was loaded: the check came after the export started")


def test_a_bad_out_is_one_line_before_exporting(
    tmp_path: Path, exported: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("seaSky.export.load_checkpoint", _no_export)
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("mine")
    cases = {
        tmp_path / "folder": "is a folder; give the file to write, e.g. out=",
        tmp_path
        / "afile"
        / "sub"
        / "m.onnx": f"{tmp_path / 'afile'} is a file, not a folder; choose another out",
        Path("/sys/seaSky-test.onnx"): "cannot write into /sys (Permission denied); choose another out",
        tmp_path / "model.ckpt": "an ONNX model's file name ends in .onnx",  # e.g. adapt's recorded output
    }
    for out, message in cases.items():
        with pytest.raises(ConfigError) as err:
            export_onnx(exported["ckpt"], out)
        assert str(err.value).startswith(f"out={out}: ") and message in str(err.value), str(err.value)
    assert (tmp_path / "afile").read_text() == "mine"


def test_an_existing_onnx_is_replaced_only_with_overwrite_and_only_if_seasky_wrote_it(
    tmp_path: Path, exported: dict
) -> None:
    mine = tmp_path / "mine.onnx"
    mine.write_bytes(b"my own model")
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match="mine.onnx: exists and seaSky did not write it; seaSky never"):
            export_onnx(exported["ckpt"], mine, overwrite=overwrite)
    assert mine.read_bytes() == b"my own model"
    # the fixture's export (beside the checkpoint, recorded there): refused, then replaced with overwrite
    before = exported["onnx"].read_bytes()
    with pytest.raises(ConfigError, match=r"tiny.onnx: exists \(an earlier export\); pass overwrite=true"):
        export_onnx(exported["ckpt"])
    assert exported["onnx"].read_bytes() == before
    assert export_onnx(exported["ckpt"], overwrite=True) == exported["onnx"]
    assert read_metadata(exported["onnx"])["image_size"] == [32, 40]


def test_opset_is_checked_first_and_the_written_one_is_what_was_asked(
    tmp_path: Path, exported: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr("seaSky.export.load_checkpoint", _no_export)
        for opset in (7, 17, max_opset() + 1, "18", True):
            with pytest.raises(ConfigError) as err:
                export_onnx(exported["ckpt"], tmp_path / "m.onnx", opset=opset)
            assert str(err.value) == (
                f"opset={opset}: not supported; the exporter writes opsets {MIN_OPSET} to {max_opset()} "
                "(default 18)"
            )
    assert not list(tmp_path.iterdir())
    assert written_opset(export_onnx(exported["ckpt"], tmp_path / "m20.onnx", opset=20)) == 20


def test_the_shipped_model_is_the_default_and_exports_into_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seaSky.pretrained import PRETRAINED_DIR

    package = sorted(p.name for p in PRETRAINED_DIR.iterdir())
    monkeypatch.chdir(tmp_path)
    assert export_onnx() == Path(PRETRAINED_OUT)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, PRETRAINED_OUT]
    assert read_metadata(tmp_path / PRETRAINED_OUT)["source_checkpoint"] == "model.ckpt"
    assert sorted(p.name for p in PRETRAINED_DIR.iterdir()) == package  # nothing written in the package


def test_int8_export_is_an_onnx_model_that_predict_runs(tmp_path: Path, exported: dict) -> None:
    from conftest import write_scene
    from seaSky.inference import load_predictor
    from seaSky.predict import backend_name, predict_folder

    out = export_onnx(exported["ckpt"], tmp_path / "tiny-int8.onnx", quantize="int8", calibration_n=4)
    meta = read_metadata(out)
    assert meta["quantization"]["type"] == "int8" and meta["image_size"] == [32, 40]
    import onnx

    ops = {node.op_type for node in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    frames = tmp_path / "frames"
    for i in range(3):
        write_scene(frames, tmp_path / "masks", f"f{i}", size=(45 + 7 * i, 61), seed=i)
    int8 = load_predictor(out)
    assert backend_name(int8) == "ONNX Runtime cpu int8"
    rows = predict_folder(int8, frames, tmp_path / "int8", overlay=False)
    floats = predict_folder(load_predictor(exported["onnx"]), frames, tmp_path / "float", overlay=False)
    assert len(rows) == len(floats) == 3
    for i in range(3):
        by_int8 = cv2.imread(str(tmp_path / "int8" / "masks" / f"f{i}.png"), 0)
        by_float = cv2.imread(str(tmp_path / "float" / "masks" / f"f{i}.png"), 0)
        assert by_int8.shape == by_float.shape and (by_int8 == by_float).mean() > 0.95
    with pytest.raises(ConfigError, match="quantize=int4: not supported"):
        export_onnx(exported["ckpt"], tmp_path / "m.onnx", quantize="int4")
