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
from typing import Any

import hydra
import onnx
import torch
from omegaconf import DictConfig

from seaSky.cli import run_cli, typed_text
from seaSky.config import register_resolvers
from seaSky.errors import ConfigError, ExportError, exit_on_error
from seaSky.io import atomic_write, check_replaceable, record_outputs
from seaSky.paths import CONFIG_DIR
from seaSky.pretrained import PRETRAINED_CKPT, resolve_checkpoint

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


def load_checkpoint(ckpt_path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of a seaSky checkpoint (eval mode, float32, contiguous) and the metadata to store.

    Raises:
        CheckpointError: the file is missing, unreadable or not a seaSky checkpoint.
    """
    from seaSky.model.checkpoint import load_trained

    path = Path(ckpt_path)
    module, ckpt = load_trained(path)

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


def default_out(ckpt_path: Path) -> Path:
    """``<stem>.onnx`` beside the checkpoint; the shipped model's: :data:`PRETRAINED_OUT` in the current
    folder (never inside the installed package)."""
    if ckpt_path.resolve() == PRETRAINED_CKPT.resolve():
        return Path(PRETRAINED_OUT)
    return ckpt_path.with_suffix(".onnx")


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
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model), load_external_data=False)
    return next(int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def export_onnx(
    ckpt_path: str | Path | None = None,
    out: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
) -> Path:
    """Export the network of ``ckpt_path`` to ONNX at ``out`` (default: :func:`default_out`).

    Args:
        ckpt_path: a Lightning checkpoint written by ``seaSky.train``; None or ``pretrained``: the shipped
            model.
        out: the .onnx file to write; written atomically and checked with ``onnx.checker``.
        opset: ONNX opset version (:data:`MIN_OPSET` to :func:`max_opset`).
        overwrite: replace an existing ``out`` that seaSky wrote (a file it did not write: refused).

    Returns:
        The path of the written file.

    Raises:
        ConfigError: a bad ``opset`` or ``out`` (before anything is exported).
        CheckpointError: missing or unreadable checkpoint.
        ExportError: an export that lost a dynamic dimension or wrote another opset than asked.
    """
    opset = check_opset(opset)
    ckpt_path = resolve_checkpoint(ckpt_path)
    out = Path(out) if out else default_out(ckpt_path)
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

    def write(tmp: Path) -> None:
        onnx.save(model, tmp)
        onnx.checker.check_model(str(tmp), full_check=True)

    record_outputs(out.absolute().parent, [out.name])  # seaSky's: a later overwrite=true may replace it
    return atomic_write(out, write)


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
) -> Path:
    """Dispatch on ``fmt`` (only ``onnx`` today) and print where the file went, its size and the opset
    written (read back from the file)."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {list(FORMATS)}, got {fmt!r}")
    opset = check_opset(opset)
    if not out:
        target = default_out(resolve_checkpoint(ckpt_path))
        where = "the current folder" if target.parent == Path() else "beside the checkpoint"
        log.info("out not given: writing %s into %s (%s)", target.name, where, target.absolute().parent)
    start = time.perf_counter()
    path = export_onnx(ckpt_path, out, opset=opset, overwrite=overwrite)
    seconds = time.perf_counter() - start
    print(f"Exported {path} ({_size(path.stat().st_size)}, opset {written_opset(path)}, {seconds:.1f} s)")
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="export")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: ``python -m seaSky.export [ckpt_path=PATH] [format=onnx] [out=FILE] [opset=18]
    [overwrite=false]``."""
    for name in ("onnxscript", "onnx_ir"):  # their optimiser passes log every rewrite at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    with exit_on_error(log):
        if not isinstance(cfg.overwrite, bool):
            raise ConfigError(f"overwrite must be true or false, got {cfg.overwrite!r}")
        ckpt_path, out = typed_text(cfg, "ckpt_path"), typed_text(cfg, "out")  # out=2024: a file name
        run_export(ckpt_path, str(cfg.format), out, cfg.opset, cfg.overwrite)


if __name__ == "__main__":
    run_cli(main)
