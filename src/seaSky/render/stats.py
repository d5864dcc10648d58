"""Statistics of a rendered data set (horizon position and angle, polarity, contrast, coasts), written as
stats.json and plotted as stats.png."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from seaSky.render.dataset import read_meta


def _num(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) for r in rows if r.get(key) not in (None, "")], dtype=np.float64)


def compute_stats(out_dir: str | os.PathLike, plot: bool = True) -> dict:
    """Statistics of a rendered set (horizon position/angle, polarity, contrast, coasts); writes
    stats.json/.png."""
    root = Path(out_dir)
    rows = read_meta(root)
    info = json.loads((root / "dataset.json").read_text())
    q = [5, 25, 50, 75, 95]

    def quant(a: np.ndarray) -> dict:
        return {f"p{k}": float(v) for k, v in zip(q, np.percentile(a, q), strict=True)} if len(a) else {}

    with_h = [r for r in rows if r["y_left"] != ""]
    centre = np.array([(float(r["y_left"]) + float(r["y_right"])) / 2 / (info["height"] - 1) for r in with_h])
    angle = _num(with_h, "horizon_angle_deg")
    contrast = _num(with_h, "horizon_contrast_sigma")
    sea = _num(rows, "sea_fraction")
    pol = [r["polarity"] for r in with_h]
    stats = {
        "n": len(rows),
        "horizon_centre_over_height": quant(centre),
        "horizon_angle_deg": quant(angle),
        "horizon_max_dev_px": quant(_num(with_h, "horizon_max_dev_px")),
        "share_no_horizon": 1 - len(with_h) / len(rows),
        "share_all_sea": float(np.mean([r["y_left"] == "" and float(r["sea_fraction"]) > 0 for r in rows])),
        "share_all_sky": float(np.mean([r["y_left"] == "" and float(r["sea_fraction"]) == 0 for r in rows])),
        "share_polarity": {
            k: pol.count(k) / max(len(pol), 1) for k in ("sea_warmer", "sky_warmer", "mixed", "none")
        },
        "share_inverted_polarity": pol.count("sky_warmer") / max(len(pol), 1),
        "horizon_contrast_sigma": quant(contrast),
        "share_contrast_below_3sigma": float((contrast < 3).mean()) if len(contrast) else 0.0,
        "sea_fraction": quant(sea),
        "share_coast_in_view": float(np.mean([float(r.get("coast_fraction") or 0) > 0 for r in rows])),
        "share_waterline_horizon": float(np.mean([r.get("horizon_kind") == "waterline" for r in with_h]))
        if with_h
        else 0.0,
        "share_shore_view": float(np.mean([r.get("shore") == "True" for r in rows])),
        "share_harbour_view": float(np.mean([r.get("harbour") == "True" for r in rows])),
        "share_glare": float(np.mean([r.get("glare") == "True" for r in rows])),
        "share_own_vessel": float(np.mean([r.get("own_vessel") == "True" for r in rows])),
        "share_time_of_day": {
            k: float(np.mean([r.get("time_of_day", "day") == k for r in rows]))
            for k in ("day", "dusk", "night")
        },
        "camera_pipeline": _pipeline_shares(rows),
    }
    (root / "stats.json").write_text(json.dumps(stats, indent=2))
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 4, figsize=(16, 3.5))
        axes[0].hist(centre, bins=40)
        axes[0].set_xlabel("horizon centre y / H")
        axes[1].hist(angle, bins=40)
        axes[1].set_xlabel("horizon angle (deg)")
        axes[2].hist(np.log10(np.maximum(contrast, 1e-2)), bins=40)
        axes[2].axvline(np.log10(3), color="r")
        axes[2].set_xlabel("log10 horizon contrast (sigma)")
        axes[3].bar(list(stats["share_polarity"]), list(stats["share_polarity"].values()))
        axes[3].set_xlabel("polarity")
        axes[3].tick_params(axis="x", labelrotation=20, labelsize=8)
        fig.suptitle(f"{root.name}: n={len(rows)}, no horizon {stats['share_no_horizon']:.1%}")
        fig.tight_layout()
        fig.savefig(root / "stats.png", dpi=80)
        plt.close(fig)
    return stats


def _pipeline_shares(rows: list[dict]) -> dict:
    """Shares of the camera video pipelines (the 8-bit frames): plateau AGC, DDE, black-hot, compression."""
    if not rows or "agc" not in rows[0]:
        return {}
    return {
        "share_plateau_agc": float(np.mean([r["agc"] == "plateau" for r in rows])),
        "share_dde": float(np.mean([float(r["dde_gain"]) > 0 for r in rows])),
        "share_black_hot": float(np.mean([r["black_hot"] == "True" for r in rows])),
        "share_jpeg": float(np.mean([int(r["jpeg_quality"]) > 0 for r in rows])),
        "share_sensor_size": _sensor_size_shares(rows),
    }


def _sensor_size_shares(rows: list[dict]) -> dict:
    """Shares of the sensor formats ("WxH"; "render" where the pipeline ran at the render size)."""
    sizes = [
        f"{r['sensor_width']}x{r['sensor_height']}" if int(r.get("sensor_width") or 0) else "render"
        for r in rows
    ]
    return {size: sizes.count(size) / len(sizes) for size in sorted(set(sizes), key=sizes.index)}
