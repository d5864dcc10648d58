"""``python -m seaSky.pretrained RUN_DIR [RUN_DIR ...] [--weights W ...] [--target DIR]``: install a run's
best checkpoint as the pretrained model, or the weighted average of several runs' best weights."""

import argparse
import logging
from pathlib import Path

from seaSky.errors import exit_on_error
from seaSky.pretrained import PRETRAINED_DIR, install

parser = argparse.ArgumentParser(prog="python -m seaSky.pretrained", description=__doc__)
parser.add_argument(
    "run_dir",
    nargs="+",
    help="seaSky.train run dirs (with results.json and .hydra/config.yaml), or .ckpt files "
    "(pretrained: the shipped one)",
)
parser.add_argument(
    "--weights", type=float, nargs="+", help="one per run dir: average their weights (default: equal)"
)
parser.add_argument(
    "--target", type=Path, default=PRETRAINED_DIR, help="install here instead (a candidate to compare)"
)
args = parser.parse_args()
with exit_on_error(logging.getLogger("seaSky.pretrained")):
    path = install(args.run_dir, target=args.target, weights=args.weights)
print(f"installed {path} ({path.stat().st_size / 1e6:.1f} MB)")
