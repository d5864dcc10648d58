"""Export a trained checkpoint to ONNX: ``python -m seaSky.export ckpt_path=PATH [out=FILE]``.

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
import time
from pathlib import Path
from typing import Any

import hydra
import onnx
import torch
from omegaconf import DictConfig, OmegaConf

from seaSky.cli import run_cli
from seaSky.config import register_resolvers
from seaSky.errors import ExportError, exit_on_error
from seaSky.io import atomic_write
from seaSky.paths import CONFIG_DIR

log = logging.getLogger(__name__)
register_resolvers()

FORMATS = ("onnx",)
DEFAULT_OPSET = 18
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


def export_onnx(ckpt_path: str | Path, out: str | Path | None = None, opset: int = DEFAULT_OPSET) -> Path:
    """Export the network of ``ckpt_path`` to ONNX at ``out`` (default: ``<ckpt stem>.onnx`` beside it).

    Args:
        ckpt_path: a Lightning checkpoint written by ``seaSky.train``.
        out: the .onnx file to write; written atomically and checked with ``onnx.checker``.
        opset: ONNX opset version.

    Returns:
        The path of the written file.

    Raises:
        CheckpointError: missing or unreadable checkpoint.
        ExportError: an export that lost a dynamic dimension.
    """
    ckpt_path = Path(ckpt_path)
    out = Path(out) if out else ckpt_path.with_suffix(".onnx")
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


def run_export(ckpt_path: str | Path, fmt: str, out: str | Path | None, opset: int) -> Path:
    """Dispatch on ``fmt`` (only ``onnx`` today) and print where the file went and its size."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {list(FORMATS)}, got {fmt!r}")
    start = time.perf_counter()
    path = export_onnx(ckpt_path, out, opset=opset)
    seconds = time.perf_counter() - start
    print(f"Exported {path} ({_size(path.stat().st_size)}, opset {opset}, {seconds:.1f} s)")
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="export")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: ``python -m seaSky.export ckpt_path=PATH [format=onnx] [out=FILE] [opset=18]``."""
    for name in ("onnxscript", "onnx_ir"):  # their optimiser passes log every rewrite at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    with exit_on_error(log):
        if OmegaConf.is_missing(cfg, "ckpt_path"):
            raise ExportError("ckpt_path is required: python -m seaSky.export ckpt_path=PATH [out=FILE]")
        run_export(cfg.ckpt_path, str(cfg.format), cfg.get("out"), int(cfg.opset))


if __name__ == "__main__":
    run_cli(main)
