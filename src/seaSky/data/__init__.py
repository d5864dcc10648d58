"""Data sources for seaSky: the synthetic infrared scene renderer and image/mask folders."""
