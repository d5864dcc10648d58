"""benchmarks/bench_models.py: a --quick run writes every table; FLOP counting; the CPU peak from cpuinfo."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_models.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_models"] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_models", None)


def tables(markdown: str) -> dict[str, list[list[str]]]:
    """The body rows of each table, by the title of its section."""
    found: dict[str, list[list[str]]] = {}
    title = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("| ") and not line.startswith("| model |"):
            found.setdefault(title, []).append([cell.strip() for cell in line.strip("|").split("|")])
    return found


@pytest.mark.slow  # a smoke test of make bench (15-30 s): make test-full
def test_quick_run_writes_every_table_for_every_model(
    tmp_path: Path, bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "results.md"
    for name in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS"):  # set by seed_everything: restored afterwards
        monkeypatch.setenv(name, "0")
    threads = torch.get_num_threads()
    try:  # in this process (a subprocess would import torch and Lightning again: 5 s or more)
        bench.main(["--quick", "--threads", "1", "--out", str(out), "--data-dir", str(tmp_path / "data")])
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    markdown = out.read_text()
    assert markdown in printed
    found = tables(markdown)
    groups = ["Size", "Training throughput", "Training time to val Dice 0.99", "Inference (network only)"]
    assert set(groups) <= set(found), list(found)
    labels = [spec.label for spec in bench.MODELS]
    assert len(labels) == 4
    for group in groups:
        assert {row[0] for row in found[group]} == set(labels), group
        for row in found[group]:
            cells = " | ".join(row[1:])
            assert not re.search(r"\b(nan|inf)\b", cells, re.IGNORECASE), (group, row)
            assert re.search(r"\d", cells), (group, row)
    assert all(float(row[3]) > 0 for row in found["Training throughput"])  # images/s
    inference = found["Inference (network only)"]
    assert {"PyTorch fp32", "PyTorch fp32 channels_last", "ONNX Runtime fp32"} <= {
        row[1] for row in inference
    }
    assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in inference)  # fps at batch 1 and 16
    assert (
        "## End-to-end video at 640x512\n\nnot measured (--quick)" in markdown
    )  # minutes: not in a smoke test


def test_video_markdown_states_every_figure(bench) -> None:
    """bench_models inserts bench_video's markdown: each row, the steadiness table and the jitter ratio."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_video", Path(bench.__file__).with_name("bench_video.py")
    )
    bench_video = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_video)
    row = {
        "backend": "PyTorch float32",
        "overlay": True,
        "batch": 16,
        "frames": 10,
        "seconds": 0.5,
        "fps": 20.0,
    }
    steady = {"frames_with_line": 10, "max_step": 1.0, "median_step": 0.1, "jitter": 0.2}
    figures = {
        "clip": "a clip", "network_input": [128, 160], "threads": 2, "cores": 2, "agreement": None,
        "rows": [row], "steadiness": {"raw": steady, "tracked": {**steady, "jitter": 0.1}},
    }  # fmt: skip
    text = bench_video.to_markdown(figures)
    assert "| PyTorch float32 | written | 16 | 10 | 0.50 | 20.0 |" in text
    assert "Tracked jitter / raw jitter: 0.50." in text


def test_flops_of_one_conv_layer(bench) -> None:
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)
    # each of the 8 x 10 x 12 outputs takes 3 x 3 x 3 multiply-adds of 2 FLOPs
    assert bench.count_flops(conv, torch.zeros(1, 3, 10, 12)) == 2 * 8 * 10 * 12 * 3 * 3 * 3


def cpuinfo(vendor: str, family: int, flags: str, mhz: float = 2500.0, cores: int = 4, smt: int = 2) -> str:
    """/proc/cpuinfo text of one socket with ``cores`` cores of ``smt`` threads each."""
    blocks = []
    for cpu in range(cores * smt):
        blocks.append(
            f"processor\t: {cpu}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel name\t: Test CPU\n"
            f"cpu MHz\t\t: {mhz}\nphysical id\t: 0\ncore id\t\t: {cpu % cores}\ncpu cores\t: {cores}\n"
            f"flags\t\t: fpu sse sse2 {flags}\n"
        )
    return "\n".join(blocks)


@pytest.mark.parametrize(
    ("vendor", "family", "flags", "per_cycle"),
    [
        ("GenuineIntel", 6, "avx avx2 fma avx512f", 64),
        ("AuthenticAMD", 25, "avx avx2 fma avx512f avx512_bf16", 32),  # Zen 4: 2 x 256-bit pipes
        ("AuthenticAMD", 26, "avx avx2 fma avx512f", 64),  # Zen 5
        ("AuthenticAMD", 23, "avx avx2 fma", 32),
        ("GenuineIntel", 6, "avx", 16),
        ("GenuineIntel", 6, "", 8),
    ],
)
def test_peak_from_cpuinfo(bench, vendor: str, family: int, flags: str, per_cycle: int) -> None:
    text = cpuinfo(vendor, family, flags, mhz=2500.0, cores=4, smt=2)
    info = bench.parse_cpuinfo(text)
    assert (info.physical_cores, info.logical_cpus, info.mhz) == (4, 8, 2500.0)
    peak = bench.peak_flops(text, threads=8)  # threads beyond the physical cores add no FLOPs
    assert (peak.cores, peak.flops_per_cycle, peak.clock_source) == (4, per_cycle, "/proc/cpuinfo cpu MHz")
    assert peak.flops == pytest.approx(4 * 2.5e9 * per_cycle)
    assert bench.peak_flops(text, threads=2, max_mhz=3000.0).flops == pytest.approx(2 * 3e9 * per_cycle)
