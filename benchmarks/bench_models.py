"""Model benchmark (issue 13): four U-Nets measured in one run, written to ``benchmarks/results.md``.

Models: our U-Net as ``experiment=baseline`` and ``experiment=pretrained`` configure it,
segmentation-models-pytorch's Unet-resnet18 (``encoder_weights=None``) and the classic 64-channel depth-4
U-Net, all built through the project's Hydra configs (``conf/``), so the benchmark follows them. For each:
parameters, FLOPs at the network input of its config, training images/s, training time to validation
Dice 0.99 on the baseline data, inference fps at batch 1 and 16 (PyTorch and ONNX Runtime), the fraction
of the CPU's peak FLOP/s reached, and end-to-end video fps (from ``benchmarks/bench_video.py`` once it
exists). Everything runs on the CPU; every figure comes from this run.

Run: python benchmarks/bench_models.py [--budget-s 300] [--quick] [--out benchmarks/results.md]
                                      [--data-dir data] [--threads N]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import logging
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from lightning import LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from omegaconf import DictConfig, open_dict
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from seaSky.callbacks import TrainingClock
from seaSky.config import fast_precision, instantiate, register_resolvers
from seaSky.io import atomic_write
from seaSky.paths import CONFIG_DIR
from seaSky.train import NETWORK_KEYS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results.md"
TARGET_DICE = 0.99
DEFAULT_BUDGET_S = 300.0
BATCHES = (1, 16)
# tiny scenes, inputs (a multiple of 32: smp's encoder needs it) and batches: a smoke test of every path
QUICK_OVERRIDES = [
    "data.n=40",
    "data.render_size=[32,32]",
    "data.image_size=[32,32]",
    "data.batch_size=4",
    "data.workers=1",
    "trainer.max_epochs=1",
]

log = logging.getLogger("bench_models")


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarked model: a label, the experiment that configures it and extra Hydra overrides."""

    label: str
    experiment: str
    overrides: tuple[str, ...] = ()


MODELS = (
    ModelSpec("seaSky baseline", "baseline"),
    ModelSpec("seaSky pretrained", "pretrained"),
    # smp's own defaults: encoder depth 5, decoder channels 256-128-64-32-16
    ModelSpec(
        "smp Unet-resnet18",
        "baseline",
        ("model=smp_unet", "model.encoder=resnet18", "model.depth=5", "model.base_channels=16"),
    ),
    # Ronneberger et al. 2015: 64-128-256-512-1024 channels, 2x2 up-convolutions
    ModelSpec(
        "classic U-Net (64 ch, depth 4)",
        "baseline",
        ("model.depth=4", "model.base_channels=64", "model.up=transpose", "model.dropout=0"),
    ),
)


@dataclass
class Settings:
    """How long each measurement runs; ``--quick`` shrinks everything for a smoke test."""

    budget_s: float = DEFAULT_BUDGET_S
    warmup: int = 3
    repeats: int = 3
    min_time_s: float = 1.0  # each timed repeat runs at least this long
    gemm_size: int = 2048
    overrides: list[str] = field(default_factory=list)

    @classmethod
    def quick(cls, budget_s: float | None) -> Settings:
        return cls(
            budget_s=1.0 if budget_s is None else budget_s,
            warmup=0,
            repeats=1,
            min_time_s=0.0,
            gemm_size=256,
            overrides=list(QUICK_OVERRIDES),
        )


# --- the CPU and its peak ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says about the machine."""

    model: str
    vendor: str
    family: int | None
    flags: frozenset[str]
    mhz: float | None
    physical_cores: int
    logical_cpus: int


def parse_cpuinfo(text: str) -> CpuInfo:
    """Model, vendor, family, SIMD flags, clock and core counts from the text of /proc/cpuinfo.

    Physical cores are the distinct (physical id, core id) pairs; without those fields, ``cpu cores``,
    and without that, the processor entries (logical CPUs)."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    entries = []
    for block in blocks:
        entry = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                entry[key.strip()] = value.strip()
        if "processor" in entry:
            entries.append(entry)
    if not entries:
        raise ValueError("no processor entries in the cpuinfo text")
    first = entries[0]
    cores = {(e["physical id"], e["core id"]) for e in entries if "physical id" in e and "core id" in e}
    if cores:
        physical = len(cores)
    elif "cpu cores" in first:
        physical = int(first["cpu cores"])
    else:
        physical = len(entries)
    mhz = [float(e["cpu MHz"]) for e in entries if "cpu MHz" in e]
    return CpuInfo(
        model=first.get("model name", "unknown"),
        vendor=first.get("vendor_id", "unknown"),
        family=int(first["cpu family"]) if first.get("cpu family", "").isdigit() else None,
        flags=frozenset(first.get("flags", "").split()),
        mhz=max(mhz) if mhz else None,
        physical_cores=physical,
        logical_cpus=len(entries),
    )


def fp32_flops_per_cycle(cpu: CpuInfo) -> tuple[int, str]:
    """Peak float32 FLOPs per cycle and core from the SIMD flags (an FMA = 2 FLOPs), and why.

    Assumes two FMA units per core, as on the server cores of the last decade: AVX-512 on Intel 64
    (2 x 16 lanes x 2); AVX-512 on AMD Zen 4 (family 25) 32, as Zen 4 splits each 512-bit operation
    over its two 256-bit FMA pipes; Zen 5 (family 26) has full 512-bit pipes, 64; AVX2 + FMA 32;
    AVX without FMA 16 (an add and a multiply unit of 8 lanes); SSE 8."""
    flags = cpu.flags
    if "avx512f" in flags:
        if cpu.vendor == "AuthenticAMD" and (cpu.family or 0) < 26:
            return 32, "AVX-512 on AMD Zen 4 (512-bit operations run on two 256-bit FMA pipes): 2 x 8 x 2"
        return 64, "AVX-512 with 2 FMA units per core: 2 x 16 lanes x 2"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2 + FMA with 2 FMA units per core: 2 x 8 lanes x 2"
    if "avx" in flags:
        return 16, "AVX without FMA: one 8-lane add and one 8-lane multiply per cycle"
    return 8, "SSE: one 4-lane add and one 4-lane multiply per cycle"


@dataclass(frozen=True)
class Peak:
    """Peak float32 FLOP/s of the cores a run uses."""

    cores: int
    mhz: float
    clock_source: str
    flops_per_cycle: int
    simd: str

    @property
    def flops(self) -> float:
        return self.cores * self.mhz * 1e6 * self.flops_per_cycle

    def describe(self) -> str:
        return (
            f"{self.cores} core(s) x {self.mhz:.0f} MHz ({self.clock_source}) x {self.flops_per_cycle} "
            f"FLOP/cycle ({self.simd}) = {self.flops / 1e9:.1f} GFLOP/s"
        )


def peak_flops(cpuinfo_text: str, threads: int, max_mhz: float | None = None) -> Peak:
    """Peak float32 FLOP/s = cores used x clock x FLOPs per cycle (:func:`fp32_flops_per_cycle`).

    Cores used: ``threads``, at most the physical cores. Clock: ``max_mhz`` (lscpu's max MHz) when
    known, else the highest ``cpu MHz`` of /proc/cpuinfo."""
    cpu = parse_cpuinfo(cpuinfo_text)
    if max_mhz:
        mhz, source = float(max_mhz), "lscpu max MHz"
    elif cpu.mhz:
        mhz, source = cpu.mhz, "/proc/cpuinfo cpu MHz"
    else:
        raise ValueError("no clock: neither a max MHz nor a 'cpu MHz' line")
    per_cycle, simd = fp32_flops_per_cycle(cpu)
    return Peak(min(threads, cpu.physical_cores), mhz, source, per_cycle, simd)


def lscpu_max_mhz() -> float | None:
    """``CPU max MHz`` of lscpu (absent in many VMs), else None."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"^CPU max MHz:\s*([\d.]+)", out, re.MULTILINE)
    return float(match.group(1)) if match else None


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), as seaSky decides it."""
    return fast_precision("cpu").startswith("bf16")


# --- configs and models -----------------------------------------------------------------------------


def compose_train(overrides: Sequence[str], data_dir: Path, run_dir: Path) -> DictConfig:
    """conf/train.yaml composed as ``python -m seaSky.train OVERRIDES`` would, on the CPU."""
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*overrides, "trainer.accelerator=cpu"])
    with open_dict(cfg):
        cfg.paths.root_dir = str(ROOT)
        cfg.paths.data_dir = str(data_dir)
        cfg.paths.output_dir = str(run_dir)
    return cfg


@dataclass
class Model:
    """A model's label, its composed config and what the measurements need from it."""

    spec: ModelSpec
    cfg: DictConfig  # its own experiment: network and input size
    train_cfg: DictConfig  # the baseline recipe and data with this network

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def input_shape(self) -> tuple[int, int, int]:
        height, width = self.cfg.data.image_size
        return int(self.cfg.model.in_channels), int(height), int(width)

    def module(self) -> LightningModule:
        """A freshly initialised SeaSkyModule of this model's config."""
        return instantiate(self.cfg.model)

    def network(self) -> nn.Module:
        """The bare network in eval mode, float32, default memory layout."""
        return self.module().net.to(memory_format=torch.contiguous_format).eval()


def load_models(settings: Settings, data_dir: Path, run_dir: Path) -> list[Model]:
    """The four models through their configs; each one's training config is ``experiment=baseline``
    with its network keys (arch, depth, widths...) set to those of its own config."""
    models = []
    for spec in MODELS:
        cfg = compose_train(
            [f"experiment={spec.experiment}", *spec.overrides, *settings.overrides], data_dir, run_dir
        )
        network = [f"model.{key}={cfg.model[key]}" for key in (*NETWORK_KEYS, "dropout") if key in cfg.model]
        train_overrides = ["experiment=baseline", *spec.overrides, *network, *settings.overrides]
        models.append(Model(spec, cfg, compose_train(train_overrides, data_dir, run_dir)))
    return models


# --- FLOPs ------------------------------------------------------------------------------------------


def count_flops(net: nn.Module, example: torch.Tensor) -> int:
    """FLOPs of one forward pass (torch.utils.flop_counter: convolutions and matrix products, a
    multiply-add counted as 2 FLOPs; normalisation, activations, pooling and padding not counted)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(example)
    return int(counter.get_total_flops())


def count_training_flops(module: LightningModule, image: torch.Tensor, mask: torch.Tensor) -> int:
    """FLOPs of forward + loss + backward of one batch, counted the same way (the optimiser's
    element-wise update is not counted)."""
    module.train()
    with FlopCounterMode(display=False) as counter:
        module.criterion(module(image), mask).backward()
    module.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


# --- timing -----------------------------------------------------------------------------------------


def throughput(run: Callable[[], object], images: int, settings: Settings) -> float:
    """Images per second of ``run`` (which handles ``images`` images): ``settings.warmup`` untimed calls
    (oneDNN builds its kernels on the first ones), then the best of ``settings.repeats`` timed repeats
    of at least ``settings.min_time_s`` each."""
    for _ in range(settings.warmup):
        run()
    best = 0.0
    for _ in range(settings.repeats):
        calls, start = 0, time.perf_counter()
        while True:
            run()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= settings.min_time_s:
                break
        best = max(best, calls * images / elapsed)
    return best


def gemm_flops(settings: Settings) -> float:
    """FLOP/s of a large float32 matrix product (``gemm_size`` squared): what the CPU reaches in practice,
    a check on the computed peak."""
    n = settings.gemm_size
    a, b = torch.rand(n, n), torch.rand(n, n)
    return 2 * n**3 * throughput(lambda: a @ b, 1, settings)


def random_batch(batch: int, shape: tuple[int, int, int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] and 0/1 float masks (random: speed does not depend on the values)."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, *shape, generator=generator)
    mask = (torch.rand(batch, 1, *shape[1:], generator=generator) > 0.5).float()
    return image, mask


def training_images_per_s(model: Model, precision: str, settings: Settings) -> float:
    """Training throughput: forward, loss, backward and the configured optimiser's step on batches of the
    baseline's batch size, in ``32-true`` or ``bf16-mixed`` (bfloat16 autocast, as Lightning's)."""
    module = model.module().train()
    optimizer = module.configure_optimizers()["optimizer"]
    batch = int(model.train_cfg.data.batch_size)
    image, mask = random_batch(batch, model.input_shape)
    bf16 = precision == "bf16-mixed"

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = module.criterion(module(image), mask)
        loss.backward()
        optimizer.step()

    return throughput(step, batch, settings)


def pytorch_fps(
    net: nn.Module, shape: tuple[int, int, int], batch: int, variant: str, settings: Settings
) -> float:
    """Network-only inference throughput in PyTorch: ``fp32``, ``fp32 channels_last`` or ``bf16``
    (bfloat16 autocast over the channels-last network, as seaSky.inference runs it)."""
    layout = torch.contiguous_format if variant == "fp32" else torch.channels_last
    net = net.to(memory_format=layout)
    image = random_batch(batch, shape)[0].contiguous(memory_format=layout)

    @torch.inference_mode()
    def run() -> None:
        with torch.autocast("cpu", torch.bfloat16, enabled=variant == "bf16"):
            net(image)

    return throughput(run, batch, settings)


def export_onnx(net: nn.Module, shape: tuple[int, int, int], path: Path) -> Path:
    """The bare network to ONNX (TorchScript exporter, dynamic batch, fixed H and W). seaSky.export only
    takes checkpoints; the comparison models here are untrained, so all four are exported the same way."""
    example = torch.zeros(2, *shape)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer warnings
        torch.onnx.export(
            net,
            (example,),
            str(path),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def onnx_fps(path: Path, shape: tuple[int, int, int], settings: Settings) -> dict[int, float]:
    """ONNX Runtime (CPU execution provider, fp32) throughput at each batch size, with the session options
    of seaSky.inference: as many intra-op threads as PyTorch uses, no spinning between runs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    try:
        return {
            batch: throughput(
                partial(session.run, ["logits"], {"image": random_batch(batch, shape)[0].numpy()}),
                batch,
                settings,
            )
            for batch in BATCHES
        }
    finally:
        del session  # its threads go before the next model is timed
        gc.collect()


# --- time to val Dice 0.99 ---------------------------------------------------------------------------


class DiceTarget(TrainingClock):
    """The training clock (validation excluded) that stops ``fit`` at the first validation reaching
    ``target`` Dice, or once the clock passes ``budget_s`` (checked after each batch)."""

    def __init__(self, target: float, budget_s: float) -> None:
        super().__init__()
        self.target = target
        self.budget_s = budget_s
        self.checks: list[tuple[float, int, float]] = []  # (training seconds, images seen, val Dice)
        self.reached: tuple[float, int, float] | None = None
        self.capped = False

    def running_seconds(self) -> float:
        return self.seconds + (time.perf_counter() - self._start if self._start is not None else 0.0)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs, batch, batch_idx
    ) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self.running_seconds() >= self.budget_s:
            self.capped = True
            trainer.should_stop = True

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        check = (self.seconds, self.images, float(trainer.callback_metrics["val/dice"]))
        self.checks.append(check)
        if check[2] >= self.target and self.reached is None:
            self.reached = check
            trainer.should_stop = True


@dataclass
class DiceRun:
    """Outcome of one time-to-Dice run."""

    precision: str
    reached: tuple[float, int, float] | None  # (training seconds, images seen, val Dice)
    train_s: float  # training seconds when it stopped
    images: int
    train_size: int
    best_dice: float
    validations: int
    stop: str  # "target", "budget" or "epochs"


def time_to_dice(model: Model, settings: Settings, val_interval: float = 0.25) -> DiceRun:
    """Train ``model`` with the baseline recipe (its data, batch size, seed, optimiser, schedule and
    precision; up to its max_epochs) in the project's LightningModule, validating every
    ``val_interval`` of an epoch, until val Dice >= TARGET_DICE or the budget. A run stopped by the
    budget is validated once more, so its best Dice includes the last batches."""
    cfg = model.train_cfg
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.seed_sampling(int(cfg.seed))
    module = instantiate(cfg.model)  # right after the data, as seaSky.train: the same initial weights
    datamodule.prepare_data()  # rendered once, then cached
    datamodule.setup("fit")
    clock = DiceTarget(TARGET_DICE, settings.budget_s)
    trainer: Trainer = instantiate(
        cfg.trainer,
        callbacks=[clock],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        min_epochs=0,  # the budget may stop the first epoch
        val_check_interval=val_interval,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="lightning")
        trainer.fit(module, datamodule=datamodule)
        last_images = clock.checks[-1][1] if clock.checks else 0
        if clock.reached is None and clock.images > last_images:
            dice = float(trainer.validate(module, datamodule=datamodule, verbose=False)[0]["val/dice"])
            clock.checks.append((clock.seconds, clock.images, dice))
    stop = "target" if clock.reached else "budget" if clock.capped else "epochs"
    return DiceRun(
        precision=str(trainer.precision),
        reached=clock.reached,
        train_s=clock.seconds,
        images=clock.images,
        train_size=len(datamodule.datasets["train"]),
        best_dice=max((dice for *_, dice in clock.checks), default=math.nan),
        validations=len(clock.checks),
        stop=stop,
    )


# --- video -------------------------------------------------------------------------------------------


def video_fps() -> str:
    """The end-to-end video section at 640x512 (``benchmarks/bench_video.py``), measured in this run."""
    spec = importlib.util.spec_from_file_location("bench_video", Path(__file__).with_name("bench_video.py"))
    bench_video = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_video)
    return bench_video.to_markdown(bench_video.measure_video())


# --- the run -----------------------------------------------------------------------------------------


@dataclass
class Results:
    """Every figure of one run, by model label (and backend or precision)."""

    params: dict[str, int] = field(default_factory=dict)
    flops: dict[str, int] = field(default_factory=dict)  # forward, per image
    train_flops: dict[str, float] = field(default_factory=dict)  # forward + backward, per image
    train_ips: dict[tuple[str, str], float] = field(default_factory=dict)  # (label, precision)
    dice: dict[str, DiceRun] = field(default_factory=dict)
    fps: dict[tuple[str, str], dict[int, float]] = field(
        default_factory=dict
    )  # (label, backend): {batch: fps}
    video: str = ""
    gemm_flops: float = math.nan


def measure(models: list[Model], settings: Settings, work_dir: Path) -> Results:
    """All measurements, PyTorch first: an ONNX Runtime session alive in the process slows PyTorch down."""
    bf16 = native_bf16()
    results = Results()
    log.info("reference: float32 matrix product %dx%d", settings.gemm_size, settings.gemm_size)
    results.gemm_flops = gemm_flops(settings)

    log.info("parameters and FLOPs")
    for model in models:
        module = model.module()
        results.params[model.label] = module.num_parameters
        results.flops[model.label] = count_flops(model.network(), torch.zeros(1, *model.input_shape))
        batch = int(model.train_cfg.data.batch_size)
        flops = count_training_flops(module, *random_batch(batch, model.input_shape))
        results.train_flops[model.label] = flops / batch

    for model in models:
        net = model.network()
        for variant in ["fp32", "fp32 channels_last", *(["bf16"] if bf16 else [])]:
            log.info("inference %s, PyTorch %s", model.label, variant)
            results.fps[model.label, f"PyTorch {variant}"] = {
                batch: pytorch_fps(net, model.input_shape, batch, variant, settings) for batch in BATCHES
            }

    for model in models:
        for precision in ["32-true", *(["bf16-mixed"] if bf16 else [])]:
            log.info("training throughput %s, %s", model.label, precision)
            results.train_ips[model.label, precision] = training_images_per_s(model, precision, settings)

    for model in models:
        log.info("time to val Dice %.2f: %s (budget %.0f s)", TARGET_DICE, model.label, settings.budget_s)
        results.dice[model.label] = run = time_to_dice(model, settings)
        log.info("  %s", dice_cell(run, settings.budget_s))

    for model in models:
        log.info("inference %s, ONNX Runtime", model.label)
        path = export_onnx(model.network(), model.input_shape, work_dir / "model.onnx")
        results.fps[model.label, "ONNX Runtime fp32"] = onnx_fps(path, model.input_shape, settings)
        path.unlink()

    if settings.overrides:  # --quick
        results.video = "not measured (--quick)"
    else:
        log.info("end-to-end video (benchmarks/bench_video.py)")
        results.video = video_fps()
    return results


# --- report ------------------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def dice_cell(run: DiceRun, budget_s: float) -> str:
    """``12.3 s (1.50 epochs, val Dice 0.9912)``, or why and where it stopped short."""
    if run.reached:
        seconds, images, dice = run.reached
        return f"{seconds:.1f} s ({images / run.train_size:.2f} epochs, val Dice {dice:.4f})"
    epochs = run.images / run.train_size
    if run.stop == "budget":
        limit = f"the {budget_s:g} s budget ({epochs:.2f} epochs)"
    else:
        limit = f"the recipe's {epochs:.0f} epochs ({run.train_s:.1f} s)"
    return f"not reached in {limit}; best val Dice {run.best_dice:.4f}"


@dataclass(frozen=True)
class RunInfo:
    """Where and how the run happened: the report's header."""

    command: str
    started: datetime.datetime
    wall_s: float
    load_start: float
    load_end: float
    cpu: CpuInfo
    peak: Peak


def report(models: list[Model], settings: Settings, results: Results, info: RunInfo) -> str:
    """The markdown: the machine, one table per measurement group, then the notes on methods."""
    import onnxruntime as ort
    import segmentation_models_pytorch as smp

    cpu, peak, threads = info.cpu, info.peak, torch.get_num_threads()
    lines = [
        "# seaSky model benchmark",
        "",
        f"`{info.command}` (run by `make bench`), {info.started:%Y-%m-%d %H:%M %Z}, took "
        f"{info.wall_s / 60:.1f} min. Every figure below was measured in this run, on the CPU.",
        "",
        f"- CPU: {cpu.model} ({cpu.vendor}, family {cpu.family}), {cpu.physical_cores} physical cores, "
        f"{cpu.logical_cpus} logical CPUs; PyTorch CPU capability {torch.backends.cpu.get_cpu_capability()}; "
        f"native bfloat16: {'yes' if native_bf16() else 'no'}",
        f"- threads: PyTorch {threads}, ONNX Runtime intra-op {threads}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, onnxruntime {ort.__version__}, "
        f"lightning {L.__version__}, segmentation-models-pytorch {smp.__version__}",
        f"- fp32 peak: {peak.describe()}",
        f"- reference: a {settings.gemm_size}x{settings.gemm_size} float32 matrix product (torch.mm) runs at "
        f"{results.gemm_flops / 1e9:.1f} GFLOP/s, {percent(results.gemm_flops / peak.flops)} of that peak",
        f"- load average (1 min): {info.load_start:.2f} at the start, {info.load_end:.2f} at the end "
        f"(this machine has {cpu.logical_cpus} logical CPUs; other work slows every figure down)",
    ]
    sections = {
        "Size": size_table(models, results),
        "Training throughput": training_table(models, results, peak),
        f"Training time to val Dice {TARGET_DICE}": dice_table(models, settings, results),
        "Inference (network only)": inference_table(models, results, peak),
        "End-to-end video at 640x512": results.video,
        "Notes on methods": notes(models, settings, peak),
    }
    for title, content in sections.items():
        lines += ["", f"## {title}", "", content]
    return "\n".join(lines) + "\n"


def size_table(models: list[Model], results: Results) -> str:
    rows = []
    for model in models:
        channels, height, width = model.input_shape
        net = model.cfg.model
        extra = f"encoder {net.encoder}" if net.arch == "smp_unet" else f"up {net.up}"
        config = " ".join([f"experiment={model.spec.experiment}", *model.spec.overrides])
        rows.append(
            [
                model.label,
                f"`{config}`",
                f"{net.arch}, depth {net.depth}, base {net.base_channels}, {extra}",
                f"{height}x{width}x{channels}",
                f"{results.params[model.label]:,}",
                f"{results.flops[model.label] / 1e9:.3f}",
                f"{results.train_flops[model.label] / 1e9:.3f}",
            ]
        )
    headers = [
        "model",
        "config",
        "network",
        "input HxWxC",
        "parameters",
        "GFLOPs/image forward",
        "GFLOPs/image forward + backward",
    ]
    return markdown_table(headers, rows)


def training_table(models: list[Model], results: Results, peak: Peak) -> str:
    rows = []
    for (label, precision), ips in results.train_ips.items():
        model = next(m for m in models if m.label == label)
        achieved = results.train_flops[label] * ips
        batch = str(model.train_cfg.data.batch_size)
        rows.append(
            [label, precision, batch, f"{ips:.1f}", f"{achieved / 1e9:.1f}", percent(achieved / peak.flops)]
        )
    return markdown_table(["model", "precision", "batch", "images/s", "GFLOP/s", "of fp32 peak"], rows)


def dice_table(models: list[Model], settings: Settings, results: Results) -> str:
    rows = []
    for model in models:
        run = results.dice[model.label]
        rows.append([model.label, run.precision, dice_cell(run, settings.budget_s), str(run.validations)])
    return markdown_table(["model", "precision", "training time to val Dice 0.99", "validations"], rows)


def inference_table(models: list[Model], results: Results, peak: Peak) -> str:
    rows = []
    for model in models:
        for (label, backend), fps in results.fps.items():
            if label == model.label:
                fraction = results.flops[label] * fps[16] / peak.flops
                rows.append([label, backend, f"{fps[1]:.1f}", f"{fps[16]:.1f}", percent(fraction)])
    return markdown_table(
        ["model", "backend", "fps, batch 1", "fps, batch 16", "of fp32 peak, batch 16"], rows
    )


def notes(models: list[Model], settings: Settings, peak: Peak) -> str:
    base = models[0].train_cfg
    data, (height, width) = base.data, base.data.image_size
    timing = (
        f"{settings.warmup} untimed warm-up calls, then the best of {settings.repeats} timed repeats of at "
        f"least {settings.min_time_s:g} s each"
    )
    quick = " (`--quick`: tiny inputs, data, batches and budget; figures only prove the paths work)"
    items = [
        "Models: built through the Hydra configs (`conf/`) as `python -m seaSky.train` builds them. `seaSky "
        "baseline` and `seaSky pretrained` are the networks of `experiment=baseline` and "
        "`experiment=pretrained`. `smp Unet-resnet18` is `model=smp_unet` at smp's defaults (encoder depth "
        "5, decoder 256-128-64-32-16), `encoder_weights=None`. The classic U-Net is our `UNet` at depth 4 "
        "with 64 base channels: Ronneberger et al.'s layout (two 3x3 convolutions per level, "
        "64-128-256-512-1024 channels, 2x2 max-pooling, 2x2 up-convolutions halving the channels, a 1x1 "
        "output convolution), except that its convolutions are padded (output size = input size; the "
        "paper's are unpadded, 572 -> 388), each is followed by BatchNorm (and has no bias), and it has "
        "1 output channel (a sigmoid logit) instead of 2. Weights are untrained: speed does not depend on "
        "them.",
        f"Input: the network input of each config (`data.image_size`, 1 channel): {height}x{width} for both "
        f"experiments{quick if settings.overrides else ''}.",
        "FLOPs: `torch.utils.flop_counter.FlopCounterMode` on one image: convolutions, transposed "
        "convolutions and matrix products, a multiply-add counted as 2 FLOPs; BatchNorm, ReLU, pooling, "
        "padding, concatenation and the loss are not counted (a few % at most). Forward + backward is "
        "counted the same way over forward, loss and backward of a training batch (about 3x forward); "
        "the optimiser's element-wise update is not counted.",
        f"Training throughput: forward, loss (`{base.model.loss}`), backward and the configured optimiser's "
        f"step (AdamW) through the LightningModule, batch {data.batch_size} (the baseline's), random images "
        "at the input size; `32-true` is float32, `bf16-mixed` bfloat16 autocast as Lightning's (only where "
        f"the CPU computes bfloat16 natively); {timing}.",
        f"Time to val Dice {TARGET_DICE}: each network trained with the baseline recipe "
        "(`experiment=baseline` with the model's network keys), all with the same data (the synthetic "
        f"`easy` preset, {data.n} scenes rendered at {data.render_size[1]}x{data.render_size[0]}, "
        f"{data.bit_depth}-bit, split 80/10/10, cached under `data/synthetic`), batch size "
        f"{data.batch_size}, seed {base.seed}, optimiser, cosine schedule over {base.trainer.max_epochs} "
        "epochs and precision (`trainer.precision`: bf16-mixed where the CPU has native bfloat16, else "
        "32-true), by Lightning with the project's SeaSkyModule, validated every quarter epoch. The time is "
        "the training clock of `seaSky.callbacks.TrainingClock` (data loading and augmentation included, "
        f"validation excluded) at the first validation with Dice >= {TARGET_DICE}. Each model's clock is "
        f"capped at {settings.budget_s:.0f} s (`--budget-s`); a capped run is validated once more, and its "
        "best val Dice is given.",
        "Inference: the bare network (no pre- or post-processing: `benchmarks/bench_predict.py` times the "
        "whole predict path), random images at the input size, eval mode, `torch.inference_mode`. PyTorch "
        "`fp32` (default layout), `fp32 channels_last`, and `bf16` (bfloat16 autocast over the channels-last "
        "network, as `seaSky.inference` runs it; only where the CPU has native bfloat16). ONNX Runtime: the "
        "network exported by the TorchScript exporter (opset 17, dynamic batch; seaSky.export takes only "
        "checkpoints), CPU execution provider, fp32, the session options of `seaSky.inference` (intra-op "
        "threads = PyTorch's, no spinning), timed after all PyTorch figures. "
        f"{timing[0].upper()}{timing[1:]}.",
        f"Fraction of peak: FLOPs per image x images/s / peak, where peak = {peak.describe()}. FLOPs per "
        "cycle and core from the SIMD flags, assuming 2 FMA units per core: AVX-512 64 (2 x 16 float32 lanes "
        "x 2), but AMD Zen 4 (family 25) 32, as it runs 512-bit operations on two 256-bit FMA pipes; AVX2 + "
        "FMA 32; AVX 16. Cores: the threads used, at most the physical cores. Clock: lscpu's max MHz where "
        "the OS shows one, else /proc/cpuinfo's `cpu MHz` (in a VM the nominal clock: turbo clocks can be "
        "higher, so fractions can come out above 100 %; the matrix-product reference above shows what is "
        "reachable). bf16 rows are compared with the fp32 peak too (AVX512-BF16 dot products can go up to "
        "2x). Training rows use the counted forward + backward FLOPs.",
        "Timings on a machine shared with other work are noisy (see the load average): rerun on a quiet "
        "machine for figures to quote.",
    ]
    return "\n".join(f"- {item}" for item in items)


def main(argv: Sequence[str] | None = None) -> str:
    """Run every measurement, write the markdown to ``--out``, print it and return it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help=f"training-time cap per model for the time to val Dice {TARGET_DICE} "
        f"(default {DEFAULT_BUDGET_S:.0f}; 1 with --quick)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny inputs, data and budget: a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the markdown file to write")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / "data", help="data cache (paths.data_dir of the configs)"
    )
    parser.add_argument("--threads", type=int, default=None, help="threads (default: PyTorch's own)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    budget_s = args.budget_s or DEFAULT_BUDGET_S
    settings = Settings.quick(args.budget_s) if args.quick else Settings(budget_s=budget_s)

    start, started, load_start = time.perf_counter(), datetime.datetime.now().astimezone(), os.getloadavg()
    cpuinfo_text = Path("/proc/cpuinfo").read_text()
    with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
        models = load_models(settings, args.data_dir, Path(tmp) / "run")
        results = measure(models, settings, Path(tmp))
    info = RunInfo(
        command=shlex.join(
            ["python", "benchmarks/bench_models.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        started=started,
        wall_s=time.perf_counter() - start,
        load_start=load_start[0],
        load_end=os.getloadavg()[0],
        cpu=parse_cpuinfo(cpuinfo_text),
        peak=peak_flops(cpuinfo_text, torch.get_num_threads(), lscpu_max_mhz()),
    )
    text = report(models, settings, results, info)
    atomic_write(args.out, lambda path: path.write_text(text))
    print(text)
    log.info("wrote %s; the run took %.1f min", args.out, info.wall_s / 60)
    return text


def configure_logging() -> None:
    """Progress lines on stderr; Lightning's notices (devices, stopping) and the ONNX optimiser's
    rewrites (bench_video.py's exports) silenced."""
    logging.basicConfig(level=logging.INFO, format="[bench_models %(asctime)s] %(message)s", datefmt="%X")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "onnxscript", "onnx_ir"):
        logging.getLogger(name).setLevel(logging.WARNING)


if __name__ == "__main__":
    configure_logging()
    main()
