"""Adapt a model to a camera without labels (self-training):
``python -m seaSky.adapt input=FRAMES_DIR output_dir=OUT [ckpt_path=PATH]``.

Each round labels the frames with the current model, keeps only the trustworthy pixels of trustworthy
frames (:mod:`seaSky.pseudo_labels`), and trains on them mixed with synthetic scenes (with their exact
masks, so the model cannot drift into nonsense), then runs the label-free checks of :mod:`seaSky.footage`
on the frames. Adapting stops at the first round whose checks are worse than before adapting (``guard``),
and the model kept is the round's before it. Writes ``OUT/model.ckpt`` (which predict, evaluate and
export take) and ``OUT/adapt.json`` / ``OUT/adapt.md``: frames used, pixels kept, and the checks before
and after. When too few frames are trustworthy, or the first round made the checks worse, it says so,
writes the report and no model, and exits 2. Frames that are identical count once toward
``trust.min_frames`` (a paused video repeats its frame). With ``overwrite=true`` an earlier run's outputs in
OUT are replaced only when the new ones are written: a refused run leaves an earlier ``model.ckpt`` as it
was (its report says so), and the checkpoint being adapted is never an output.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import hydra
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, open_dict
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from seaSky import footage
from seaSky.cli import run_cli, typed_text
from seaSky.config import instantiate
from seaSky.data.datamodule import SyntheticIRDataModule
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.frames import list_inputs, read_batches
from seaSky.inference import Predictor
from seaSky.io import atomic_write, earlier_outputs, record_outputs, write_json
from seaSky.model.checkpoint import load_trained
from seaSky.paths import CONFIG_DIR
from seaSky.pretrained import resolve_checkpoint
from seaSky.pseudo_labels import PseudoLabel, TrustRules, pseudo_labels

log = logging.getLogger(__name__)
OUTPUTS = ("model.ckpt", "adapt.json", "adapt.md")


class MixedDataset(Dataset):
    """Pseudo-labelled frames (trusted pixels only) and synthetic scenes (every pixel), as
    ``{"image", "mask", "keep"}`` (1, H, W) tensors, augmented together."""

    def __init__(self, labels: Sequence[PseudoLabel], scenes: tuple, augment: Callable | None) -> None:
        images, masks = scenes
        self.items = [(x.image, x.mask, x.keep) for x in labels]
        self.items += [(im, m, np.ones_like(m)) for im, m in zip(images, masks, strict=True)]
        self.augment = augment

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        image, mask, keep = self.items[index]
        if self.augment is not None:
            out = self.augment(image=image, masks=[mask, keep])
            image, (mask, keep) = out["image"], out["masks"]
        as_tensor = lambda a, t: torch.from_numpy(np.ascontiguousarray(a, dtype=t))[None]  # noqa: E731
        return {"image": as_tensor(image, np.float32), "mask": as_tensor(mask, np.float32),
                "keep": as_tensor(keep, np.float32)}  # fmt: skip


def masked_loss(logits: torch.Tensor, target: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """BCE + soft Dice over the kept pixels only."""
    weight_sum = keep.sum().clamp_min(1.0)
    bce = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * keep).sum() / weight_sum
    p = torch.sigmoid(logits) * keep
    dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + (target * keep).sum() + 1)
    return bce + dice


def train_round(predictor: Predictor, data: MixedDataset, epochs: int, lr: float, batch_size: int) -> float:
    """Train the predictor's module on ``data`` for ``epochs``; the last epoch's mean loss."""
    module = predictor.module
    module.train()
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=lr)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=len(data) > batch_size)
    mean = float("nan")
    for epoch in range(epochs):
        losses = []
        for batch in tqdm(loader, desc=f"adapt epoch {epoch + 1}/{epochs}", unit="batch", leave=False):
            logits = module(batch["image"].to(predictor.device))
            loss = masked_loss(logits, batch["mask"].to(logits.device), batch["keep"].to(logits.device))
            if not torch.isfinite(loss):
                raise DataError("adapt: non-finite training loss; lower lr")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        mean = float(np.mean(losses))
    module.eval()
    return mean


def label_frames(
    predictor: Predictor, paths: Sequence[Path], rules: TrustRules, batch_size: int
) -> list[PseudoLabel]:
    """Pseudo-labels of every readable frame, with the current model."""
    labels = []
    for batch in read_batches(paths, batch_size):
        labels += pseudo_labels(predictor, [(path.stem, image) for path, image in batch], rules)
    return labels


def footage_summary(predictor: Predictor, paths: Sequence[Path], batch_size: int) -> dict:
    """The label-free checks of :mod:`seaSky.footage` over every readable frame, with the current model."""
    checks = []
    for batch in read_batches(paths, batch_size):
        checks += footage.check_batch(predictor, [(path.stem, image) for path, image in batch])
    return footage.summarize(checks)


def adapt(cfg: DictConfig) -> dict:
    """Self-train the model of ``cfg.ckpt_path`` on the frames of ``cfg.input``; return the report."""
    start = time.perf_counter()
    for key, what in (
        ("rounds", "round"),
        ("epochs_per_round", "epoch a round"),
        ("batch_size", "frame a batch"),
    ):
        if int(cfg[key]) < 1:
            raise ConfigError(f"{key}={cfg[key]}: adapt needs at least one {what}")
    for key in ("input", "output_dir", "ckpt_path"):  # input=2024: a folder, not a number
        cfg[key] = typed_text(cfg, key)
    out = Path(cfg.output_dir)
    earlier_outputs(out, OUTPUTS, cfg.overwrite)  # refused unless overwrite; replaced only when rewritten
    frames = list_inputs(str(cfg.input))
    ckpt_path = resolve_checkpoint(cfg.ckpt_path)
    if ckpt_path.resolve() == (out / "model.ckpt").resolve():
        raise ConfigError(
            f"{ckpt_path}: the model to adapt is this run's output {out / 'model.ckpt'}; choose another "
            "output_dir (the model being adapted is never replaced)"
        )
    module, ckpt = load_trained(ckpt_path)  # a bad checkpoint is said before a pass over the frames
    # unreadable and tiny frames are skipped once, with a warning each, not again in every later pass;
    # frames of two sizes are refused, as check_footage refuses them (the checks compare px across frames)
    one_size, paths = footage.OneSize(), []
    for batch in read_batches(frames, cfg.batch_size):
        for path, image in batch:
            one_size.check(str(path), image)
            paths.append(path)
    data_hparams = ckpt.get("datamodule_hyper_parameters", {})
    predictor = Predictor(module, data_hparams.get("image_size", (128, 160)), data_hparams.get("normalize"))
    rules = TrustRules(**cfg.trust.rules)
    torch.manual_seed(cfg.seed)

    before = footage_summary(predictor, paths, cfg.batch_size)
    labels = label_frames(predictor, paths, rules, cfg.batch_size)
    report: dict = {
        "input": str(cfg.input), "ckpt_path": str(ckpt_path), "n_frames": len(labels),
        "trust": dict(cfg.trust.rules), "rounds": [], "before": before,
        "frames": [{"stem": x.stem, "horizon_confidence": round(x.horizon_confidence, 4),
                    "mirror_dice": round(x.mirror_dice, 4), "kept_share": round(float(x.keep.mean()), 4),
                    "used": x.used} for x in labels],  # the first labelling, by which a refusal is decided
    }  # fmt: skip
    used = [x for x in labels if x.used]
    n_distinct, n_used = distinct_frames(labels), distinct_frames(used)  # a repeated frame counts once
    need = max(int(cfg.trust.min_frames), int(np.ceil(cfg.trust.min_share * n_distinct)))
    record_outputs(out, OUTPUTS)
    earlier_model = out / "model.ckpt" if (out / "model.ckpt").exists() else None
    if n_used < need:
        report.update({"status": "refused", "n_used": n_used, "n_needed": need,
                       "n_distinct_frames": n_distinct,
                       "earlier_model_kept": str(earlier_model or "")})  # fmt: skip
        _write_report(out, report)
        if n_distinct < need:
            raise DataError(
                f"{cfg.input}: {n_distinct} distinct readable frames; adapt needs at least {need} with "
                f"trustworthy pseudo-labels (trust.min_frames): no model written; see {out / 'adapt.md'}. "
                + label_instead(cfg.input)
            )
        raise DataError(
            f"{cfg.input}: only {n_used} of {n_distinct} distinct frames have trustworthy pseudo-labels "
            f"(need {need}): no model written; see {out / 'adapt.md'}. " + label_instead(cfg.input)
        )

    scenes = synthetic_scenes(cfg, predictor)
    with open_dict(cfg):
        cfg.data.image_size = list(predictor.image_size)  # the augmentation's crops are the network's size
    augment = instantiate(cfg.augment) if cfg.get("augment") else None
    if augment is not None and hasattr(augment, "set_random_seed"):  # albumentations draws from its own
        augment.set_random_seed(int(cfg.seed))  # generator: unseeded, two runs of one seed would differ
    kept_round = None  # (round, weights, checks) of the last round before one whose checks are worse
    for round_index in range(int(cfg.rounds)):
        if round_index > 0:
            labels = label_frames(predictor, paths, rules, cfg.batch_size)
            used = [x for x in labels if x.used]
        kept = float(np.mean([x.keep.mean() for x in used])) if used else 0.0
        loss = train_round(
            predictor, MixedDataset(used, scenes, augment), cfg.epochs_per_round, cfg.lr, cfg.batch_size
        )
        checks = footage_summary(predictor, paths, cfg.batch_size)
        worse = worse_than_before(cfg, before, checks)
        report["rounds"].append({"frames_used": len(used), "pixels_kept": kept, "loss": loss, "worse": worse,
                                 "stems_used": [x.stem for x in used]})  # fmt: skip
        log.info("round %d: %d of %d frames used, %.1f %% of their pixels kept, loss %.4f%s",
                 round_index + 1, len(used), len(labels), 100 * kept, loss,
                 f"; label-free checks worse: {'; '.join(worse)}" if worse else "")  # fmt: skip
        if worse:  # a worse model is no start for another round: its pseudo-labels would be worse too
            if round_index + 1 < int(cfg.rounds):
                report["stopped_after_round"] = round_index + 1
            break
        state = {k: v.detach().clone() for k, v in predictor.module.state_dict().items()}
        kept_round = (round_index + 1, state, checks)

    report["wall_s"] = round(time.perf_counter() - start, 2)
    if kept_round is None:
        report.update({"status": "worse", "after": checks, "earlier_model_kept": str(earlier_model or "")})
        _write_report(out, report)
        raise DataError(
            f"{cfg.input}: adapting made the label-free checks worse in round 1 ({'; '.join(worse)}): "
            f"no model written; see {out / 'adapt.md'} (guard.enabled=false keeps the last round anyway)"
        )
    n_kept, state, after = kept_round
    predictor.module.load_state_dict(state)
    report.update({"status": "adapted", "kept_round": n_kept, "after": after})
    _write_checkpoint(out / "model.ckpt", ckpt, predictor.module, report)
    _write_report(out, report)
    return report


def distinct_frames(labels: Sequence[PseudoLabel]) -> int:
    """How many of the frames differ (identical frames, as a paused video repeats, count once)."""
    return len({hashlib.sha1(x.image.tobytes()).digest() for x in labels})


def worse_than_before(cfg: DictConfig, before: dict, after: dict) -> list[str]:
    """The label-free checks that adapting made worse (:func:`seaSky.footage.worse_checks`); none when
    ``guard.enabled`` is false."""
    guard = cfg.guard
    if not guard.enabled:
        return []
    return footage.worse_checks(before, after, guard.mirror_dice_drop, guard.share_rise)


def synthetic_scenes(cfg: DictConfig, predictor: Predictor) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic scenes mixed in (rendered once into the cache), prepared like the model's input."""
    if int(cfg.synthetic.n) == 0:
        return np.zeros((0, *predictor.image_size), np.float32), np.zeros(
            (0, *predictor.image_size), np.uint8
        )
    datamodule = SyntheticIRDataModule(
        cache_dir=cfg.synthetic.cache_dir, n=cfg.synthetic.n, seed=cfg.synthetic.seed,
        render_size=cfg.synthetic.render_size, bit_depth=cfg.synthetic.bit_depth, scene=dict(cfg.preset),
        image_size=predictor.image_size, normalize=predictor.normalize,
    )  # fmt: skip
    datamodule.prepare_data()
    datamodule.setup("fit")
    train = datamodule.datasets["train"]
    return train.images, train.masks


def _write_checkpoint(path: Path, source: dict, module: torch.nn.Module, report: dict) -> None:
    """The source checkpoint with the adapted weights (no optimiser or loop state: a model to use)."""
    ckpt = {
        k: v
        for k, v in source.items()
        if k not in ("optimizer_states", "lr_schedulers", "loops", "callbacks")
    }
    ckpt["state_dict"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    keys = ("input", "n_frames", "rounds", "kept_round")
    ckpt["seaSky_adapt"] = {k: v for k, v in report.items() if k in keys}
    atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


def label_instead(frames: object) -> str:
    """What a refusal for too few trustworthy frames suggests: label ten frames and fine-tune on them."""
    return (
        "The label-free checks cannot tell which of the model's lines are right on these frames, so "
        "self-training has too little to learn from: label ten frames instead (python -m seaSky.pick "
        f"input={frames} n=10 output_dir=LABELS, then "
        "python -m seaSky.label input=LABELS) and fine-tune on them (python -m seaSky.train "
        "experiment=finetune data.root=LABELS)"
    )


def _write_report(out: Path, report: dict) -> None:
    write_json(out / "adapt.json", report)
    lines = [
        f"# seaSky.adapt: {report['status']}",
        "",
        f"- input: {report['input']} ({report['n_frames']} frames)",
        f"- model: {report['ckpt_path']}",
    ]
    if report["status"] == "refused":
        lines.append(
            f"- only {report['n_used']} distinct frames with trustworthy pseudo-labels, {report['n_needed']} "
            f"needed. {label_instead(report['input'])}"
        )
    if report.get("frames"):  # why frames were or were not trusted: the rules against the frames' values
        rules, frames = report["trust"], report["frames"]
        median = {k: float(np.median([f[k] for f in frames])) for k in ("horizon_confidence", "mirror_dice",
                                                                          "kept_share")}  # fmt: skip
        lines.append(
            f"- first labelling, medians over the frames (the rule in brackets): horizon confidence "
            f"{median['horizon_confidence']:.3f} (>= {rules['horizon_confidence']}), mirror Dice "
            f"{median['mirror_dice']:.3f} (>= {rules['mirror_dice']}), pixels kept "
            f"{100 * median['kept_share']:.1f} % (>= {100 * rules['kept_share']:.0f} %); each frame's in "
            "adapt.json"
        )
    for i, r in enumerate(report["rounds"], 1):
        worse = f"; label-free checks worse than before: {'; '.join(r['worse'])}" if r.get("worse") else ""
        lines.append(f"- round {i}: {r['frames_used']} frames used, {100 * r['pixels_kept']:.1f} % of their "
                     f"pixels kept, loss {r['loss']:.4f}{worse}")  # fmt: skip
    if report["status"] == "adapted":
        kept = report["kept_round"]
        lines.append(f"- model: round {kept}'s, the last whose label-free checks are no worse than before")
    if "stopped_after_round" in report:
        lines.append(f"- stopped after round {report['stopped_after_round']}: its checks were worse, so it "
                     "is no start for another round")  # fmt: skip
    if report["status"] == "worse":
        lines.append("- round 1 made the label-free checks worse: no model written")
    if report.get("earlier_model_kept"):
        lines.append(f"- {report['earlier_model_kept']} is an earlier run's model, kept as it was")
    lines += ["", "| label-free check | before | after |", "|---|---|---|"]
    after = report.get("after") or {}
    for name, key in (("frames with a horizon", "share_with_horizon"), ("jumps > 5 px", "n_jumps"),
                      ("mirror Dice min", "mirror_dice_min"),
                      ("frames with sea in pieces", "share_sea_in_pieces"),
                      ("frames with sea off the bottom edge", "share_sea_off_bottom")):  # fmt: skip
        show = _percent if key.startswith("share_") else _fmt
        lines.append(f"| {name} | {show(report['before'].get(key))} | {show(after.get(key))} |")
    step_before, step_after = report["before"]["step_dy_px"], after.get("step_dy_px") or {}
    lines.append(
        f"| frame-to-frame dy p95 (px) | {_fmt(step_before['p95'])} | {_fmt(step_after.get('p95'))} |"
    )
    atomic_write(out / "adapt.md", lambda tmp: tmp.write_text("\n".join(lines) + "\n"))


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="adapt")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    with exit_on_error(log):
        report = adapt(cfg)
    n_kept = report["kept_round"]
    log.info(
        "Adapted (round %d of %d kept) -> %s",
        n_kept,
        len(report["rounds"]),
        Path(cfg.output_dir) / "model.ckpt",
    )


if __name__ == "__main__":
    run_cli(main)
