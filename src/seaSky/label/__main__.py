"""``python -m seaSky.label input=FRAMES output_dir=OUT``: the labeller's entry point (see seaSky.label)."""

from __future__ import annotations

import logging
import webbrowser
from pathlib import Path

import hydra
from omegaconf import DictConfig

from seaSky.cli import run_cli, typed_text
from seaSky.errors import ConfigError, DataError, exit_on_error
from seaSky.frames import list_inputs
from seaSky.paths import CONFIG_DIR
from seaSky.sequence import is_stream
from seaSky.video import is_video

log = logging.getLogger("seaSky.label")


def resolve_input(input_path: str, output_dir: str | None) -> tuple[list[Path], Path]:
    """The frames to label and OUT. ``input_path``: an image, a folder of frames, or an OUT of
    ``seaSky.pick`` (its ``images/``; then OUT defaults to it). DataError for a video or stream (pick its
    frames first), ConfigError for a missing ``output_dir``."""
    text = str(input_path)
    if is_stream(text) or is_video(text):
        raise DataError(
            f"{text}: a video or stream; label reads image frames: pick some first with python -m "
            f"seaSky.pick input={text} n=10 output_dir=OUT, then python -m seaSky.label input=OUT"
        )
    path = Path(text)
    picked = path.is_dir() and (path / "images").is_dir() and not any(
        p.is_file() and p.suffix.lower() in (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
        for p in path.iterdir()
    )  # fmt: skip
    frames = list_inputs(path / "images" if picked else path)
    if output_dir is None:
        if not picked:
            raise ConfigError("output_dir: no value given; pass output_dir=... on the command line")
        output_dir = text
    return frames, Path(output_dir)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="label")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: the input and OUT are checked before the model loads; serves until Ctrl+C."""
    from seaSky.inference import load_predictor
    from seaSky.label.server import LabelServer, LabelSession, check_outputs

    with exit_on_error(log):
        for key in ("input", "output_dir", "ckpt_path"):  # input=2024: a folder, not a number
            cfg[key] = typed_text(cfg, key)
        if isinstance(cfg.port, bool) or not isinstance(cfg.port, int) or not 0 <= cfg.port <= 65535:
            raise ConfigError(
                f"port must be a whole number from 0 to 65535 (0: a free one), got {cfg.port!r}"
            )
        frames, out = resolve_input(cfg.input, cfg.output_dir)
        check_outputs(frames, out, cfg.overwrite)
        predictor = load_predictor(cfg.ckpt_path, device=cfg.device)
        session = LabelSession(frames, out, predictor, cfg.overwrite)
        server = LabelServer(session, cfg.port)
    n_done = len(session.labels)
    print(
        f"seaSky.label: {len(frames)} frames ({n_done} labelled) at {server.url} ; labels saved as you go "
        f"into {out / 'lines.csv'}; Ctrl+C stops",
        flush=True,
    )
    if cfg.open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print(f"{len(session.labels)} of {len(frames)} frames labelled in {out / 'lines.csv'}")


if __name__ == "__main__":
    run_cli(main)
