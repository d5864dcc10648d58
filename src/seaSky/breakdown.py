"""Where a model's errors lie: the wrong pixels of a test split by kind of scene.

``seaSky.evaluate`` joins its per-image scores with the data's ``meta.csv`` (the renderer writes one per
data set, a row per scene) and writes ``breakdown.csv`` and ``breakdown.md``: for each scene element
(shore view, harbour, glare, fog, ...) and each of its values, how many test images have it, and what
share of all wrong pixels they hold. An element whose share of wrong pixels is well above its share of
images is where the model is weak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from seaSky.io import atomic_write, write_csv
from seaSky.render.dataset import read_meta

# the renderer's meta.csv columns that name a kind of scene (conf/preset/default.yaml), in table order
SCENE_COLUMNS = (
    "horizon_kind", "shore", "harbour", "glare", "own_vessel", "fog", "land", "clouds", "time_of_day",
    "agc", "black_hot",
)  # fmt: skip
BREAKDOWN_COLUMNS = ("element", "value", "images", "image_share", "wrong_px_share", "mean_dice")


def scene_meta(root: str | Path) -> dict[str, dict[str, str]]:
    """``ROOT/meta.csv`` as {stem: row}; empty when there is none or it has no scene columns."""
    if not (Path(root) / "meta.csv").is_file():
        return {}
    rows = read_meta(root)
    if not rows or "stem" not in rows[0] or not set(SCENE_COLUMNS) & set(rows[0]):
        return {}
    return {row["stem"]: row for row in rows}


def error_breakdown(
    per_image: Sequence[Mapping],
    meta: Mapping[str, Mapping[str, str]],
    columns: Sequence[str] = SCENE_COLUMNS,
) -> list[dict]:
    """One row per (scene column, value) over the per-image rows whose stem is in ``meta``: the number
    of images, their share of the images, their share of all wrong pixels and their mean Dice."""
    rows = [row for row in per_image if str(row["stem"]) in meta]
    total_wrong = sum(int(row["wrong_px"]) for row in rows)
    present = [c for c in columns if rows and c in meta[str(rows[0]["stem"])]]
    out = []
    for column in present:
        groups: dict[str, list[Mapping]] = {}
        for row in rows:
            groups.setdefault(meta[str(row["stem"])][column], []).append(row)
        for value, group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            wrong = sum(int(row["wrong_px"]) for row in group)
            out.append(
                {
                    "element": column,
                    "value": value,
                    "images": len(group),
                    "image_share": round(len(group) / len(rows), 4),
                    "wrong_px_share": round(wrong / total_wrong, 4) if total_wrong else 0.0,
                    "mean_dice": round(sum(float(row["dice"]) for row in group) / len(group), 4),
                }
            )
    return out


def to_markdown(rows: Sequence[Mapping]) -> str:
    """The breakdown as a markdown table."""
    lines = [
        "Wrong pixels of the test split by kind of scene (`seaSky.evaluate`, with the data's meta.csv)",
        "",
        "| element | value | images | share of images | share of wrong pixels | mean Dice |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['element']} | {r['value']} | {r['images']} | {r['image_share']:.1%} | "
            f"{r['wrong_px_share']:.1%} | {r['mean_dice']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def write_breakdown(out_dir: str | Path, rows: Sequence[Mapping]) -> None:
    """``breakdown.csv`` and ``breakdown.md`` in ``out_dir``, atomically."""
    out = Path(out_dir)
    write_csv(out / "breakdown.csv", rows, BREAKDOWN_COLUMNS)
    text = to_markdown(rows)
    atomic_write(out / "breakdown.md", lambda tmp: tmp.write_text(text))
