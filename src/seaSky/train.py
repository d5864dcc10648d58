"""Train, validate and test a sea/sky segmentation model: ``python -m seaSky.train experiment=baseline``.

``train(cfg)`` is a plain function (seed, instantiate, epoch-0 validation, fit, test on the best
checkpoint, results.json); ``main`` is its Hydra entry point and returns the metric named by
``optimized_metric`` so that sweepers need nothing else.

A run dir (``hydra.run.dir``) that holds an earlier run's outputs (:data:`OUTPUTS`) is refused unless
``overwrite=true`` (which replaces only what seaSky wrote there) or the run resumes a checkpoint of that dir.
A fine-tune (``init_from``) keeps the source model's weights as its best checkpoint when no epoch beat them
on the validation split, and says so. ``ckpt_path`` resumes any run, a fine-tune too: ``init_from`` then only
sets the network, whose weights the checkpoint replaces.
"""

from __future__ import annotations

import logging
import shlex
import time
from pathlib import Path

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict

from seaSky.callbacks import EpochHistory, FiniteLossGuard, Interruption, TrainingClock
from seaSky.checkpoint_io import AtomicCheckpointIO
from seaSky.cli import run_cli
from seaSky.config import instantiate, register_resolvers, resolved_config, use_trained_input
from seaSky.errors import exit_on_error
from seaSky.io import write_json
from seaSky.model.checkpoint import load_trained
from seaSky.model.module import SeaSkyModule
from seaSky.paths import CONFIG_DIR
from seaSky.preflight import check_train_config, resolve_ckpt_path
from seaSky.pretrained import resolve_checkpoint
from seaSky.run_dir import claim_run_dir

log = logging.getLogger(__name__)
register_resolvers()

# what defines a network's weights: taken from the init_from model
NETWORK_KEYS = ("arch", "in_channels", "depth", "base_channels", "up", "encoder")


def instantiate_group(group: DictConfig | None) -> list:
    """Instantiate every ``_target_`` entry of a config group (callbacks, loggers); None -> []."""
    if not group:
        return []
    return [instantiate(node) for node in group.values() if node and "_target_" in node]


def train(cfg: DictConfig) -> dict:
    """Fit and test the configured model; return the metrics and write ``<output_dir>/results.json``
    (``"status": "interrupted"`` and SystemExit 130 / 143 after Ctrl-C / SIGTERM, with a resumable
    ``checkpoints/last.ckpt``)."""
    start = time.perf_counter()
    output_dir = Path(cfg.paths.output_dir)
    check_train_config(cfg)  # before any data is loaded or rendered
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), output_dir, _experiment(cfg))
    source = init_source(cfg) if cfg.get("init_from") else None  # sets the network and input from it
    init_path = resolve_checkpoint(str(cfg.init_from)) if cfg.get("init_from") else None
    claim_run_dir(output_dir, ckpt_path, init_path, bool(cfg.get("overwrite")))  # nothing removed before
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    datamodule: L.LightningDataModule = instantiate(cfg.data)
    if cfg.get("seed") is not None and hasattr(datamodule, "seed_sampling"):
        datamodule.seed_sampling(cfg.seed)  # batches and augmentation from (seed, epoch)
    model: L.LightningModule = instantiate(cfg.model)
    if source is not None:
        model.net.load_state_dict(source.net.state_dict())
    clock = TrainingClock()
    interruption = Interruption(output_dir / "checkpoints")
    callbacks = [
        clock,  # first: pauses before the others' hooks
        *instantiate_group(cfg.get("callbacks")),
        FiniteLossGuard(output_dir / "checkpoints"),
        interruption,
    ]
    loggers = instantiate_group(cfg.get("logger"))
    history = next((cb for cb in callbacks if isinstance(cb, EpochHistory)), None)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, plugins=[AtomicCheckpointIO()]
    )
    params = model.num_parameters
    log.info("Model %s: %s trainable parameters", cfg.model.arch, f"{params:,}")
    for logger in loggers:
        logger.log_hyperparams({"params": params, **resolved_config(cfg)})
        if isinstance(logger, WandbLogger):
            _define_wandb_axes(logger)

    train_seconds = 0.0
    source_candidate = None  # a fine-tune's source weights, a candidate for the best checkpoint
    if cfg.get("train"):
        if not ckpt_path and not trainer.fast_dev_run:
            trainer.validate(model, datamodule=datamodule, verbose=False)  # epoch 0: before training
            if source is not None:
                source_candidate = _save_source_candidate(trainer, output_dir / "checkpoints")
        fit_start = time.perf_counter()
        try:
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        except SystemExit:  # Lightning's exit after Ctrl-C or SIGTERM
            if interruption.signal is None:
                raise
            _exit_interrupted(trainer, interruption, output_dir, start)
        train_seconds = time.perf_counter() - fit_start
    fit_metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}

    best_ckpt = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if source_candidate is not None:
        best_ckpt = _best_of_source_and_fit(trainer, source_candidate, best_ckpt)
    test_metrics: dict[str, float] = {}
    if cfg.get("test"):
        ckpt = best_ckpt or ckpt_path
        if not ckpt:
            log.warning("No checkpoint (fast_dev_run, or train=false without ckpt_path): testing as is")
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, weights_only=False)
        test_metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}

    epochs = trainer.current_epoch
    results = {
        "status": "completed",
        **test_metrics,
        "val/dice_best": fit_metrics.get("val/dice_best"),
        "ckpt_best": best_ckpt,
        "params": params,
        "epochs": epochs,
        "train_seconds": round(train_seconds, 2),  # fit, validation included
        # the training part of the epochs only
        "train_images_per_s": round(clock.images_per_s, 2) if clock.images_per_s else None,
        "wall_s": round(time.perf_counter() - start, 2),
        "output_dir": str(output_dir),
    }
    if trainer.is_global_zero:
        write_json(output_dir / "results.json", results)
        for logger in loggers:
            if isinstance(logger, WandbLogger):
                _finish_wandb_run(logger, results)
    if history is not None and history.rows:
        log.info("Per-epoch metrics (epoch 0 = before training):\n%s", history.table())
    log.info("Results: %s", {k: v for k, v in results.items() if isinstance(v, float)})
    log.info("Run dir: %s", output_dir)
    return results


def init_source(cfg: DictConfig) -> SeaSkyModule:
    """The model ``init_from`` names (a seaSky checkpoint, or ``pretrained``: the shipped one). Its network
    (architecture, depth, widths) and its input size and normalisation replace those of ``cfg`` (in
    place), so that its weights fit and its frames are prepared as it was trained; the optimiser,
    schedule, loss and epochs stay those of ``cfg``: a new run, not a resume."""
    path = resolve_checkpoint(str(cfg.init_from))
    source, ckpt = load_trained(path)
    given = {f"model.{key}": cfg.model.get(key) for key in NETWORK_KEYS}
    given.update({f"data.{key}": cfg.data.get(key) for key in ("image_size", "normalize")})
    with open_dict(cfg):
        for key in NETWORK_KEYS:
            if key in source.hparams:
                cfg.model[key] = source.hparams[key]
    use_trained_input(cfg.data, ckpt)
    asked = _command_line_keys()
    for key in given:  # the user asked for a value (or a part of one) that the weights fix otherwise
        if not any(k == key or k.startswith(key + ".") for k in asked):
            continue
        taken = OmegaConf.select(cfg, key)
        if taken != given[key]:
            log.warning("%s=%s ignored: the weights of init_from fix it to %s", key, given[key], taken)
    height, width = cfg.data.image_size
    log.info(
        "Initialised from %s: %s depth %s, %s base channels, input %dx%d (WxH)",
        path, cfg.model.arch, cfg.model.depth, cfg.model.base_channels, width, height,
    )  # fmt: skip
    return source


def _command_line_keys() -> set[str]:
    """The keys this run's command line set (none outside Hydra)."""
    if not HydraConfig.initialized():
        return set()
    overrides = HydraConfig.get().overrides.task
    return {item.split("=", 1)[0].lstrip("+") for item in overrides if not item.startswith("~")}


def _experiment(cfg: DictConfig) -> str | None:
    """The ``experiment`` this run was composed with (None: none, or outside Hydra)."""
    if not HydraConfig.initialized():
        return None
    choice = HydraConfig.get().runtime.choices.get("experiment")
    return None if choice in (None, "null") else str(choice)


def _exit_interrupted(trainer: L.Trainer, interruption: Interruption, output_dir: Path, start: float) -> None:
    """results.json with ``"status": "interrupted"``, then exit 128 + the signal's number (130, 143)."""
    signum = interruption.signal
    assert signum is not None
    if trainer.is_global_zero:
        write_json(
            output_dir / "results.json",
            {
                "status": "interrupted",
                "signal": signum.name,
                "epochs": trainer.current_epoch,
                "last_ckpt": str(interruption.ckpt_path or ""),
                "wall_s": round(time.perf_counter() - start, 2),
                "output_dir": str(output_dir),
            },
        )
    log.warning(
        "Interrupted by %s at epoch %d: resume with\n  %s",
        signum.name,
        trainer.current_epoch,
        resume_command(interruption.ckpt_path),
    )
    raise SystemExit(128 + int(signum))


def resume_command(ckpt: Path | None) -> str:
    """The command that resumes this run from ``ckpt``: this run's command line with ``ckpt_path=``."""
    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("ckpt_path=", "overwrite="))]
    return shlex.join(["python", "-m", "seaSky.train", *kept, f"ckpt_path={ckpt}"])


def _save_source_candidate(trainer: L.Trainer, dirpath: Path) -> tuple[Path, float] | None:
    """Save the fine-tune's source weights (just validated: epoch 0) with their validation Dice."""
    score = trainer.callback_metrics.get("val/dice")
    if score is None:
        return None
    path = dirpath / f"epoch000-dice{float(score):.4f}.ckpt"
    trainer.save_checkpoint(path, weights_only=True)
    return path, float(score)


def _best_of_source_and_fit(trainer: L.Trainer, candidate: tuple[Path, float], best_ckpt: str) -> str:
    """The better of the source weights (epoch 0) and fitting's best checkpoint; the other source file
    removed. A fine-tune that only made the model worse says so and keeps the source's weights."""
    path, score = candidate
    callback = trainer.checkpoint_callback
    fitted = float(callback.best_model_score) if callback and callback.best_model_score is not None else None
    if fitted is not None and fitted >= score:
        path.unlink(missing_ok=True)
        return best_ckpt
    log.warning(
        "Fine-tuning did not beat the source model on the validation split (val/dice %s after, %.4f before): "
        "the best checkpoint is the source's weights, %s",
        "-" if fitted is None else f"{fitted:.4f}", score, path,
    )  # fmt: skip
    return str(path)


def _define_wandb_axes(logger: WandbLogger) -> None:
    """Plot epoch metrics against epochs trained (0 = before training), not Lightning's step."""
    run = logger.experiment
    run.define_metric("trained_epochs")
    for pattern in ("train/*", "val/*", "test/*"):
        run.define_metric(pattern, step_metric="trained_epochs")


def _finish_wandb_run(logger: WandbLogger, results: dict) -> None:
    """Test metrics into the run summary; the best checkpoint as a model artifact."""
    import wandb

    run = logger.experiment
    run.summary.update({k: v for k, v in results.items() if isinstance(v, (int, float))})
    if results.get("ckpt_best"):
        artifact = wandb.Artifact(
            f"model-{run.id}", type="model", metadata={"val/dice_best": results["val/dice_best"]}
        )
        artifact.add_file(results["ckpt_best"], name="best.ckpt")
        run.log_artifact(artifact, aliases=["best"])


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    # in a multirun the error is raised again: Hydra records the failed job and the sweep goes on
    try:
        with exit_on_error(log, reraise=HydraConfig.get().mode == RunMode.MULTIRUN):
            results = train(cfg)
    finally:
        _finish_wandb()
    metric = cfg.get("optimized_metric")
    return results.get(metric) if metric else None


def _finish_wandb() -> None:
    """Close a W&B run even when training raised, so the next multirun job starts clean."""
    import sys

    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            wandb.finish()


if __name__ == "__main__":
    run_cli(main)
