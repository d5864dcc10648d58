"""Synthetic infrared (LWIR, 8-14 um) maritime scenes with exact sea masks and horizon ground truth.

The project's built-in data set: a procedural, physically motivated renderer, so that a U-Net trained
only on it transfers to real thermal cameras. Mask: 1 = sea (water surface), 0 = everything else.

Physics modelled (numbers and sources in the modules named):
- Geometry (geometry.py): pinhole camera with horizontal FOV, height above the sea, roll, pitch
  and slight barrel distortion. The horizon lies sqrt(2h/R) below the horizontal (R = 6371 km, times
  0.92 for standard refraction); a pixel is sea iff its (undistorted) ray points below it, so the mask
  is exact per pixel and the horizon may be a gentle curve. Distance to the water along a ray at
  depression beta below the horizon: D = 1 / (tan(beta)/h + 1/D_h) (flat earth near, D_h at the horizon).
- Radiance (physics.py, surfaces.py): Planck band radiance over 8-14 um from a lookup table.
  Sky: eps(theta) = 1 - (1 - eps_zenith)^(1/cos theta) times B(T_atm), coldest at the zenith and
  brightening towards the horizon; fractal clouds on a cloud layer in perspective, warm (low) or cold
  (high), attenuated by the path to them. Sea: eps(theta') B(T_sea) + (1 - eps) L_sky(reflected), with
  eps from the Fresnel equations for water at ~10 um (n = 1.218 + 0.051i, Hale & Querry 1973; 0.99 at
  nadir), averaged over Cox-Munk wind slopes like Masuda et al. (1988), so the sea emissivity drops at
  grazing angles and sea and sky radiance converge at the horizon. Swell and wind waves live on the
  water plane (so they shrink in perspective, filtered against aliasing); the local slope tilts the
  view angle, changing emissivity and the reflected sky. Foam (emissivity ~0.99) as streaks parallel
  to the horizon, vessel wakes, sun/sky glint (sometimes saturating), slicks (calm patches with a lower
  grazing emissivity). Air path: extinction over the
  horizontal path (clear-air LWIR 15-60 km, fog down to a few hundred metres) mixing in B(T_atm);
  fog also blurs the far field, flattening the horizon.
- Polarity: the sign of sea minus horizon sky follows T_sea - T_atm (plus clouds, glint, fog); cold water
  under a humid/overcast sky inverts it, so "bright means sea" is not a rule.
- Objects (coast.py, floating.py): coasts of one to three ragged ridges, far ones fading into the haze, up to
  12 degrees high, either near (their waterline below the horizon, hiding the sea behind them) or beyond
  the horizon, with kelvins of thermal texture, sun-warmed patches and a waterline strip (beach, quay,
  buildings); where a near coast covers 3/4 of the width, the horizon ground truth is its waterline,
  the sea's upper boundary (meta ``horizon_kind``, ``near_coast_cover``); vessels behind it are hidden.
  Vessels (hull, superstructure, hot exhaust; some on the horizon, partly hidden by the earth's
  curvature), buoys.
- Sensor (sensor.py): optics blur, occasional defocus / motion blur, vignetting, gain to 14-bit
  counts (30-90 counts/K), temporal noise from NETD 30-80 mK, column/row fixed-pattern noise,
  dead/hot pixels, and an AGC (percentile stretch with clipping) for 8-bit output.
- Real-camera elements, each from a random stream of its own (off in the ``easy`` preset): shore views
  with surf bands (shore.py), harbours seen from a boat (harbour.py), glare (surfaces.py), parts of the
  own vessel (own_vessel.py), dusk and night (params.after_sunset: no sun; land, beach and hull cool
  below the air; the sea stays warmer than the air), and the camera's 8-bit video pipeline at the
  sensor's native size (camera.py: AGC, plateau equalisation, DDE, gamma, black-hot, compression).

The package, one job per module: ``knobs`` (the scene distribution and its presets), ``params`` (one
scene's sampled parameters, typed by stage), ``pipeline`` (rendering one scene), ``truth`` (horizon
ground truth and contrast), ``dataset`` (writing a data set: worker pool, cache key), ``stats`` and
``preview`` (statistics and contact sheets of a set), ``sequence`` (a video of one scene seen by a
rolling, pitching camera, with spoilers and the exact truth of every frame); the physics in
``geometry``, ``physics``, ``surfaces``, ``coast``, ``floating``, ``shore``, ``harbour``,
``own_vessel``, ``sensor``, ``camera`` and ``noise``.

CLI (Hydra): ``python -m seaSky.render out_dir=DIR n=2000 seed=0 preset=default``
(``preview=true`` for a contact sheet, ``stats=true`` for data-set statistics, ``sequence=true`` for n
frames of one scene seen by a moving camera, ``video=true`` to add them as clip.mp4).
"""
