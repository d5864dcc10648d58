"""seaSky: sea/sky segmentation of infrared maritime images (hand-written U-Net, Lightning + Hydra)."""

import os

# Nothing is fetched at run time: albumentations would otherwise ask PyPI for updates on every import.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
