"""Building blocks of the synthetic infrared scene renderer (physics, noise, objects, sensor)."""
