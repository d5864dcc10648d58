"""Export a trained checkpoint to ONNX: ``python -m seaSky.export [ckpt_path=PATH] [out=FILE]``.

Without ``ckpt_path`` (or with ``pretrained``), the model shipped in the package. Without ``out``, the file
goes beside the checkpoint (``<stem>.onnx``), or for the shipped model into the current folder
(:data:`PRETRAINED_OUT`), never into the installed package. ``out`` is checked before the export starts
(a folder, a path under a file, a folder that cannot be written: one line); an existing file there is
replaced only with ``overwrite=true`` and only where seaSky wrote it (its folder's manifest,
:func:`seaSky.io.record_outputs`).

``export_onnx(ckpt_path, out)`` is a plain function; ``main`` is its Hydra entry point over
``conf/export.yaml``. The ONNX model takes ``image`` (N, C, H, W) float32, already normalised as in
training (per-image percentile stretch to [0, 1], resized to ``image_size``), and returns sea ``logits``
(N, 1, H, W); N, H and W are dynamic. Its ``metadata_props`` carry what a predictor needs to rebuild the
preprocessing and the decision from the .onnx alone: ``image_size`` and ``normalize`` (JSON),
``threshold``, and the model's ``hyper_parameters`` (JSON).

``quantize=int8`` writes an int8 model instead (:func:`quantize_int8`: ONNX Runtime's static quantisation,
QDQ format, int8 weights per channel and uint8 activations, calibrated on synthetic scenes), which
``seaSky.predict ckpt_path=FILE.onnx`` runs like any other; its metadata adds ``quantization``.

Example:
    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession("best.onnx", providers=["CPUExecutionProvider"])
    >>> meta = session.get_modelmeta().custom_metadata_map  # {"image_size": "[256, 320]", ...}
    >>> logits = session.run(["logits"], {"image": images})[0]
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
import numpy as np
from omegaconf import DictConfig

from seaSky.cli import run_cli, typed_text
from seaSky.config import register_resolvers
from seaSky.errors import ConfigError, ExportError, exit_on_error
from seaSky.io import atomic_write, check_replaceable, record_outputs
from seaSky.paths import CONFIG_DIR
from seaSky.pretrained import PRETRAINED_CKPT, resolve_checkpoint

if TYPE_CHECKING:  # onnx and torch load in the functions that need them: --help stays quick
    import onnx
    import torch

log = logging.getLogger(__name__)
register_resolvers()

FORMATS = ("onnx",)
DEFAULT_OPSET = 18
# torch's ONNX exporter (dynamo) writes opset 18 and up; a lower one needs onnx's version converter, which
# cannot convert the U-Net's Pad, and the exporter then writes opset 18 anyway. The highest: what onnx knows.
MIN_OPSET = 18
PRETRAINED_OUT = "seaSky-pretrained.onnx"  # the shipped model's default out, in the current folder
INPUT_NAME, OUTPUT_NAME = "image", "logits"
DYNAMIC_DIMS = {0: "batch", 2: "height", 3: "width"}
QUANTIZE = ("none", "int8")
CALIBRATION_PRESETS = ("default", "real2")  # real2: the real cameras' look (AGC, DDE, palette, compression)
CALIBRATION_SIZE = (320, 256)  # width, height of the calibration scenes (the training sets' render size)


def load_checkpoint(ckpt_path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of a seaSky checkpoint (eval mode, float32, contiguous) and the metadata to store.

    Raises:
        CheckpointError: the file is missing, unreadable or not a seaSky checkpoint.
    """
    import torch

    from seaSky.model.checkpoint import load_network

    path = Path(ckpt_path)
    module, ckpt = load_network(path)  # the network alone: no Lightning

    hparams = dict(ckpt["hyper_parameters"])
    data = ckpt.get("datamodule_hyper_parameters") or {}
    metadata: dict[str, Any] = {"threshold": float(hparams.get("threshold", module.threshold))}
    if "image_size" in data and "normalize" in data:
        metadata["image_size"] = [int(v) for v in data["image_size"]]
        metadata["normalize"] = dict(data["normalize"] or {})
    else:
        log.warning("%s holds no datamodule image_size/normalize: the .onnx won't carry preprocessing", path)
    metadata["hyper_parameters"] = hparams
    metadata["source_checkpoint"] = path.name

    # module.forward may switch to channels_last; export the bare network in the default layout.
    net = module.net.to(dtype=torch.float32, memory_format=torch.contiguous_format).eval()
    return net, metadata


def max_opset() -> int:
    """The highest ONNX opset the installed onnx package knows."""
    import onnx

    return int(onnx.defs.onnx_opset_version())


def check_opset(opset: object) -> int:
    """``opset`` as an int; ConfigError unless a whole number from :data:`MIN_OPSET` to :func:`max_opset`."""
    whole = isinstance(opset, int) and not isinstance(opset, bool)
    if not whole or not MIN_OPSET <= opset <= max_opset():
        raise ConfigError(
            f"opset={opset}: not supported; the exporter writes opsets {MIN_OPSET} to {max_opset()} "
            f"(default {DEFAULT_OPSET})"
        )
    return int(opset)


def default_out(ckpt_path: Path, quantize: str = "none") -> Path:
    """``<stem>.onnx`` beside the checkpoint (``<stem>-int8.onnx`` for ``quantize=int8``); the shipped
    model's: :data:`PRETRAINED_OUT` (``seaSky-pretrained-int8.onnx``) in the current folder (never inside
    the installed package)."""
    suffix = "-int8.onnx" if quantize == "int8" else ".onnx"
    if ckpt_path.resolve() == PRETRAINED_CKPT.resolve():
        return Path(PRETRAINED_OUT.removesuffix(".onnx") + suffix)
    return ckpt_path.with_name(ckpt_path.stem + suffix)


def check_quantize(quantize: object) -> str:
    """``quantize`` as text; ConfigError unless one of :data:`QUANTIZE` (YAML's null and false: none)."""
    text = "none" if quantize in (None, False) else str(quantize)
    if text not in QUANTIZE:
        raise ConfigError(f"quantize={quantize}: not supported; choose one of {', '.join(QUANTIZE)}")
    return text


def check_out(out: Path, overwrite: bool = False) -> None:
    """ConfigError (one line naming ``out``) unless the export can write ``out``: not a folder, not under a
    file, in a folder this process can write; an existing file there only with ``overwrite`` and only
    where seaSky wrote it (the folder's manifest)."""
    if out.is_dir():
        raise ConfigError(f"out={out}: is a folder; give the file to write, e.g. out={out / 'model.onnx'}")
    if out.suffix.lower() != ".onnx":  # the manifest is the folder's: never replace another command's output
        raise ConfigError(f"out={out}: an ONNX model's file name ends in .onnx; choose another out")
    folder = out.absolute().parent
    while not folder.exists() and folder != folder.parent:  # the folders still to be made
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"out={out}: {folder} is a file, not a folder; choose another out")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".seaSky-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(f"out={out}: cannot write into {folder} ({reason}); choose another out") from None
    check_replaceable(out, overwrite, "out", "an earlier export")


def written_opset(model: onnx.ModelProto | str | Path) -> int:
    """The default-domain opset of an ONNX model (or file): what the exporter actually wrote."""
    import onnx

    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    return next(int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def export_onnx(
    ckpt_path: str | Path | None = None,
    out: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
    quantize: str = "none",
    calibration_n: int = 64,
) -> Path:
    """Export the network of ``ckpt_path`` to ONNX at ``out`` (default: :func:`default_out`).

    Args:
        ckpt_path: a Lightning checkpoint written by ``seaSky.train``; None or ``pretrained``: the shipped
            model.
        out: the .onnx file to write; written atomically and checked with ``onnx.checker``.
        opset: ONNX opset version (:data:`MIN_OPSET` to :func:`max_opset`).
        overwrite: replace an existing ``out`` that seaSky wrote (a file it did not write: refused).
        quantize: ``none`` (float32) or ``int8`` (:func:`quantize_int8`, calibrated on ``calibration_n``
            synthetic scenes).
        calibration_n: scenes to calibrate an int8 model on (at least 1).

    Returns:
        The path of the written file.

    Raises:
        ConfigError: a bad ``opset`` or ``out`` (before anything is exported).
        CheckpointError: missing or unreadable checkpoint.
        ExportError: an export that lost a dynamic dimension or wrote another opset than asked.
    """
    import onnx
    import torch

    opset = check_opset(opset)
    quantize = check_quantize(quantize)
    if quantize == "int8" and not (isinstance(calibration_n, int) and calibration_n >= 1):
        raise ConfigError(f"calibration_n={calibration_n}: give a whole number of scenes, at least 1")
    ckpt_path = resolve_checkpoint(ckpt_path)
    out = Path(out) if out else default_out(ckpt_path, quantize)
    check_out(out, overwrite)
    net, metadata = load_checkpoint(ckpt_path)
    hparams = metadata["hyper_parameters"]
    depth, in_channels = int(hparams.get("depth", 4)), int(hparams.get("in_channels", 1))

    # An example of batch 2 (1 would be specialised) and distinct H != W, multiples of 2**depth so that
    # encoders that need divisible sizes (smp) trace too; the exported graph accepts any size.
    example = torch.zeros(2, in_channels, 3 * 2**depth, 4 * 2**depth)
    # The default dynamo exporter handles the U-Net's pad-to-skip (F.pad by skip - upsampled sizes) with
    # symbolic H and W: Dim.AUTO lets torch.export infer the guards, and odd sizes give the same logits
    # as PyTorch. No fallback to the TorchScript exporter (dynamo=False) is needed.
    auto = torch.export.Dim.AUTO
    with torch.no_grad():
        program = torch.onnx.export(
            net,
            (example,),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({dim: auto for dim in DYNAMIC_DIMS},),
            opset_version=opset,
            dynamo=True,
            verbose=False,
        )
    model = program.model_proto
    if written_opset(model) != opset:
        raise ExportError(f"opset={opset}: the exporter wrote opset {written_opset(model)}; nothing written")
    _name_dynamic_dims(model)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value, default=str)
    model.doc_string = (
        f"seaSky sea/sky segmentation: {INPUT_NAME} (N, {in_channels}, H, W) float32 normalised -> "
        f"{OUTPUT_NAME} (N, 1, H, W); sea where sigmoid(logits) > threshold"
    )
    if quantize == "int8":
        if "image_size" not in metadata:
            raise ExportError(f"{ckpt_path}: no image_size/normalize to calibrate an int8 model with")
        inputs = calibration_inputs(metadata["image_size"], metadata["normalize"], calibration_n, in_channels)
        model = quantize_int8(model, inputs)

    def write(tmp: Path) -> None:
        onnx.save(model, tmp)
        onnx.checker.check_model(str(tmp), full_check=True)

    record_outputs(out.absolute().parent, [out.name])  # seaSky's: a later overwrite=true may replace it
    return atomic_write(out, write)


def calibration_inputs(
    image_size: list[int], normalize: dict, n: int = 64, in_channels: int = 1, seed: int = 0
) -> np.ndarray:
    """Network inputs (n, in_channels, H, W) float32 to calibrate an int8 model on: synthetic scenes
    (:data:`CALIBRATION_PRESETS` in turn, seeds from ``seed``) at :data:`CALIBRATION_SIZE`, every other one
    as the raw 14-bit counts and as the camera's 8-bit frame (its AGC, DDE, gamma, palette and JPEG: what
    real cameras deliver), preprocessed as predict preprocesses a frame. No real frame is used."""
    from seaSky.data.preprocess import preprocess_image
    from seaSky.render.dataset import scene_seed
    from seaSky.render.knobs import load_preset
    from seaSky.render.pipeline import render_scene

    presets = [load_preset(name) for name in CALIBRATION_PRESETS]
    frames = []
    for i in range(n):
        scene = render_scene(scene_seed(seed, i), *CALIBRATION_SIZE, presets[i % len(presets)])
        raw = scene.image if (i // len(presets)) % 2 == 0 else scene.display()
        frames.append(preprocess_image(raw, image_size, normalize))
    inputs = np.stack(frames)[:, None].astype(np.float32)
    return np.repeat(inputs, in_channels, axis=1) if in_channels > 1 else inputs


def quantize_int8(model: onnx.ModelProto, inputs: np.ndarray) -> onnx.ModelProto:
    """The int8 version of a float32 seaSky model: ONNX Runtime's static quantisation in QDQ format, weights
    int8 per output channel, activations uint8 with ranges from running the model on ``inputs`` (N, C, H, W;
    MinMax calibration), after ONNX Runtime's pre-processing (shape inference, graph optimisation). The
    metadata stays, plus ``quantization`` (JSON)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(inputs[i : i + 1] for i in range(len(inputs)))

        def get_next(self) -> dict | None:
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    with tempfile.TemporaryDirectory(prefix="seaSky-int8-") as tmp:
        fp32, pre, int8 = (Path(tmp) / name for name in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        onnx.save(model, fp32)
        # symbolic shape inference cannot follow the U-Net's pad-to-skip sizes: ONNX's own inference only
        quant_pre_process(fp32, pre, skip_symbolic_shape=True)
        quantize_static(
            pre, int8, Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )  # fmt: skip
        quantized = onnx.load(str(int8))
    del quantized.metadata_props[:]  # the tools' own notes out, seaSky's back in, in their order
    quantized.metadata_props.extend(model.metadata_props)
    note = quantized.metadata_props.add()
    note.key = "quantization"
    note.value = json.dumps(
        {"type": "int8", "format": "QDQ", "weights": "int8 per channel", "activations": "uint8",
         "calibration": f"MinMax over {len(inputs)} synthetic scenes ({', '.join(CALIBRATION_PRESETS)})"}
    )  # fmt: skip
    quantized.doc_string = model.doc_string + " (int8)"
    return quantized


def _name_dynamic_dims(model: onnx.ModelProto) -> None:
    """Rename the exporter's symbols (``s77``...) of the input's dynamic dims to batch/height/width,
    everywhere in the graph; fail if the export fixed one of them."""
    (image,) = model.graph.input
    dims = image.type.tensor_type.shape.dim
    renames = {}
    for axis, name in DYNAMIC_DIMS.items():
        if not dims[axis].dim_param:
            raise ExportError(f"the export fixed {name} (axis {axis}) to {dims[axis].dim_value}")
        renames[dims[axis].dim_param] = name
    graph = model.graph
    for value in [*graph.input, *graph.output, *graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in renames:
                dim.dim_param = renames[dim.dim_param]


def read_metadata(onnx_path: str | Path) -> dict[str, Any]:
    """The seaSky metadata of an exported model, decoded: image_size, normalize, threshold, ..."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    decoded: dict[str, Any] = {}
    for entry in model.metadata_props:
        try:
            decoded[entry.key] = json.loads(entry.value)
        except json.JSONDecodeError:
            decoded[entry.key] = entry.value
    return decoded


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.2f} MB" if num_bytes >= 1e6 else f"{num_bytes / 1e3:.1f} kB"


def run_export(
    ckpt_path: str | Path | None,
    fmt: str,
    out: str | Path | None,
    opset: object = DEFAULT_OPSET,
    overwrite: bool = False,
    quantize: object = "none",
    calibration_n: object = 64,
) -> Path:
    """Dispatch on ``fmt`` (only ``onnx`` today) and print where the file went, its size and the opset
    written (read back from the file)."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {list(FORMATS)}, got {fmt!r}")
    opset = check_opset(opset)
    quantize = check_quantize(quantize)
    if not out:
        target = default_out(resolve_checkpoint(ckpt_path), quantize)
        where = "the current folder" if target.parent == Path() else "beside the checkpoint"
        log.info("out not given: writing %s into %s (%s)", target.name, where, target.absolute().parent)
    start = time.perf_counter()
    path = export_onnx(
        ckpt_path, out, opset=opset, overwrite=overwrite, quantize=quantize, calibration_n=calibration_n
    )
    seconds = time.perf_counter() - start
    kind = ", int8" if quantize == "int8" else ""
    size = _size(path.stat().st_size)
    print(f"Exported {path} ({size}, opset {written_opset(path)}{kind}, {seconds:.1f} s)")
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="export")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: ``python -m seaSky.export [ckpt_path=PATH] [format=onnx] [out=FILE] [opset=18]
    [quantize=none|int8] [overwrite=false]``."""
    for name in ("onnxscript", "onnx_ir"):  # their optimiser passes log every rewrite at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    with exit_on_error(log):
        if not isinstance(cfg.overwrite, bool):
            raise ConfigError(f"overwrite must be true or false, got {cfg.overwrite!r}")
        ckpt_path, out = typed_text(cfg, "ckpt_path"), typed_text(cfg, "out")  # out=2024: a file name
        run_export(ckpt_path, str(cfg.format), out, cfg.opset, cfg.overwrite, cfg.quantize, cfg.calibration_n)


if __name__ == "__main__":
    run_cli(main)
