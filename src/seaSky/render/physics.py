"""Radiometry of the LWIR (8-14 um) maritime scene: Planck band radiance, water emissivity, sky emissivity.

Sources of the numbers:
- Planck's law integrated numerically over 8-14 um (a typical uncooled microbolometer band).
- Water refractive index at ~10 um: n = 1.218 + 0.051i (Hale & Querry 1973, Appl. Opt. 12, 555).
  Fresnel equations give emissivity 0.990 at nadir falling to 0 at grazing incidence.
- Wind roughening: facet slopes follow Cox & Munk (1954), sigma^2 = 0.003 + 0.00512 * wind[m/s]
  (one slope component, about half of that); averaging Fresnel emissivity over visible facets
  (weighted by their projected area) gives the flattened curve of Masuda, Takashima & Takayama (1988,
  Remote Sens. Environ. 24, 313): about 0.98 below 50 deg, 0.9-0.95 at 70 deg, 0.5-0.7 at 85 deg.
- Clear sky: emissivity along a slant path, eps(theta) = 1 - (1 - eps_zenith)^(1/cos theta), the
  "air-mass" scaling used e.g. by Unsworth & Monteith (1975). In the 8-14 um window the clear sky is
  far more transparent than broadband (zenith brightness temperatures of 220-260 K): eps_zenith
  ~0.25-0.55 clear, ~0.6-0.9 humid. The air mass is capped (40) near the horizon, where eps -> 1.
"""

from __future__ import annotations

import functools

import numpy as np

H_PLANCK = 6.62607015e-34
C_LIGHT = 2.99792458e8
K_BOLTZ = 1.380649e-23
WATER_N = complex(1.218, 0.051)
MAX_AIR_MASS = 40.0

_T_GRID = np.linspace(150.0, 700.0, 1101)  # K


def _band_radiance(temps: np.ndarray, lo_um: float = 8.0, hi_um: float = 14.0) -> np.ndarray:
    """Planck radiance integrated over [lo, hi] um, W / (m^2 sr), by the trapezoid rule."""
    lam = np.linspace(lo_um, hi_um, 241) * 1e-6
    t = np.asarray(temps, dtype=np.float64)[..., None]
    spec = 2 * H_PLANCK * C_LIGHT**2 / lam**5 / np.expm1(H_PLANCK * C_LIGHT / (lam * K_BOLTZ * t))
    return np.trapezoid(spec, lam, axis=-1) if hasattr(np, "trapezoid") else np.trapz(spec, lam, axis=-1)


_L_GRID = _band_radiance(_T_GRID)


def planck(temp_k: float | np.ndarray) -> np.ndarray:
    """Band radiance (8-14 um, W m^-2 sr^-1) of a black body at temp_k, from a lookup table."""
    return np.interp(temp_k, _T_GRID, _L_GRID)


def brightness_temp(radiance: float | np.ndarray) -> np.ndarray:
    """Inverse of planck(): the black-body temperature (K) with this band radiance."""
    return np.interp(radiance, _L_GRID, _T_GRID)


def dplanck_dt(temp_k: float) -> float:
    """Slope of the band radiance against temperature at temp_k (W m^-2 sr^-1 K^-1)."""
    return float(planck(temp_k + 0.5) - planck(temp_k - 0.5))


def fresnel_emissivity(theta_rad: np.ndarray, n: complex = WATER_N) -> np.ndarray:
    """Emissivity 1 - R of a flat surface (unpolarised) for incidence angle theta from the normal."""
    cos_i = np.cos(theta_rad).astype(np.complex128)
    sin_i = np.sin(theta_rad)
    cos_t = np.sqrt(1 - (sin_i / n) ** 2)
    rs = (cos_i - n * cos_t) / (cos_i + n * cos_t)
    rp = (n * cos_i - cos_t) / (n * cos_i + cos_t)
    return 1 - 0.5 * (np.abs(rs) ** 2 + np.abs(rp) ** 2)


def _rough_emissivity_table(
    n_theta: int = 901, winds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Wind-roughened emissivity table eps[wind, theta], theta in 0..90 deg (0.1 deg steps)."""
    winds = np.arange(0.0, 21.0) if winds is None else winds
    theta = np.radians(np.linspace(0, 90, n_theta))
    tilt = np.radians(np.linspace(-60, 60, 481))
    table = np.empty((len(winds), n_theta), np.float32)
    # the facets' geometry and Fresnel emissivity do not depend on the wind: computed once (the same
    # numbers as computing them per wind, 20 times faster at import)
    s = np.tan(tilt)
    local = theta[:, None] - tilt[None, :]  # incidence on the tilted facet
    cos_local = np.where(np.cos(local) > 0, np.cos(local), 0)  # visible facets only
    eps = fresnel_emissivity(np.clip(local, -np.pi / 2, np.pi / 2))
    for i, w in enumerate(winds):
        sigma = np.sqrt(0.5 * (0.003 + 0.00512 * w))  # one slope component (Cox & Munk)
        weight = np.exp(-0.5 * (s / sigma) ** 2)
        proj = cos_local * weight[None, :]
        table[i] = (proj * eps).sum(1) / np.maximum(proj.sum(1), 1e-12)
    return winds, table


_WINDS, _EPS_TABLE = _rough_emissivity_table()


def sea_emissivity(theta_deg: np.ndarray, wind_ms: float) -> np.ndarray:
    """Wind-roughened sea emissivity for view zenith angles theta_deg (clipped to 0..90)."""
    row = _EPS_TABLE[int(np.clip(round(wind_ms), 0, len(_WINDS) - 1))]
    idx = np.clip(theta_deg * 10.0, 0, len(row) - 1).astype(np.int32)
    return row[idx]


def sky_emissivity(zenith_deg: np.ndarray, eps_zenith: float) -> np.ndarray:
    """Clear-sky emissivity along a slant path: 1 - (1 - eps_zenith)^(air mass), air mass capped."""
    table = _sky_table(round(float(eps_zenith), 5))
    idx = np.clip(np.asarray(zenith_deg) * np.float32(20.0), 0, len(table) - 1).astype(np.int32)
    return table[idx]


@functools.lru_cache(maxsize=64)
def _sky_table(eps_zenith: float) -> np.ndarray:
    """sky_emissivity at zenith angles 0..90 deg in 0.05 deg steps."""
    mu = np.cos(np.radians(np.linspace(0.0, 90.0, 1801)))
    air_mass = np.minimum(1.0 / np.maximum(mu, 1e-3), MAX_AIR_MASS)
    return (1.0 - np.power(1.0 - eps_zenith, air_mass)).astype(np.float32)
