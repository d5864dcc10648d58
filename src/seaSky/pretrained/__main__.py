"""``python -m seaSky.pretrained RUN_DIR``: install a run's best checkpoint as the pretrained model."""

import argparse
import logging

from seaSky.errors import exit_on_error
from seaSky.pretrained import install

parser = argparse.ArgumentParser(prog="python -m seaSky.pretrained", description=__doc__)
parser.add_argument("run_dir", help="a seaSky.train run dir (with results.json and .hydra/config.yaml)")
with exit_on_error(logging.getLogger("seaSky.pretrained")):
    path = install(parser.parse_args().run_dir)
print(f"installed {path} ({path.stat().st_size / 1e6:.1f} MB)")
