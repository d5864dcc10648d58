"""Models: the hand-written U-Net and the LightningModule that trains it."""
