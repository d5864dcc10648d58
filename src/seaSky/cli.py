"""Run a Hydra entry point so that a mistake on the command line is one line and exit status 2.

Hydra reports a misspelt key (``model.depht=3``), an unknown option (``preset=hrad``) or a malformed
override in several lines and exits with 1. :func:`run_cli` catches those errors instead (Hydra re-raises
them with ``HYDRA_FULL_ERROR=1``) and logs one line that names the key and the closest valid one.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from seaSky.errors import EXIT_USER_ERROR, SeaSkyError, one_line

if TYPE_CHECKING:
    from omegaconf import DictConfig

log = logging.getLogger("seaSky")


def run_cli(main: Callable[[], object]) -> None:
    """Call a ``@hydra.main`` function; exit 2 with one line for a command-line mistake Hydra finds."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # Hydra re-raises; we report
    try:
        main()
    except (ConfigCompositionException, MissingConfigException, OverrideParseException) as err:
        print(f"ConfigError: {command_line_error(err)}", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from None
    except SeaSkyError as err:  # raised again after a multirun job, or by a Hydra callback before the run
        print(one_line(err), file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from None


def command_line_error(err: BaseException) -> str:
    """One line for a Hydra composition error: the key or option, what is wrong, the closest valid one."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(err, MissingConfigException) and err.options is not None:
        group = str(err.missing_cfg_file or "").rsplit("/", 1)
        name = group[-1]
        group_name = group[0] if len(group) == 2 else "option"
        return (
            f"{group_name}={name}: no such {group_name}{_closest(name, err.options)}; "
            f"choose one of {', '.join(sorted(err.options))}"
        )
    cause = err.__cause__
    if isinstance(cause, OmegaConfBaseException) and cause.full_key:
        key = str(cause.full_key)
        parent = cause.parent_node
        valid = list(parent.keys()) if parent is not None and hasattr(parent, "keys") else []
        leaf = key.rsplit(".", 1)[-1]
        if valid and leaf not in valid:
            prefix = key[: -len(leaf)]
            near = _closest(leaf, valid, prefix)
            return f"{key}: no such key{near} (to add a new key, write +{key}=...)"
        return f"{key}: {' '.join(str(cause.msg).split())}"
    override = getattr(err, "override", None) or _ambiguous_override(str(err))
    if override:
        key, _, value = str(override).partition("=")
        return (
            f"{override}: Hydra cannot read this value as written (a comma, space, bracket or non-ASCII "
            f"character in it); quote it, e.g. '{key}=\"{value}\"'"
        )
    return " ".join(str(err).split())[:300]


def _ambiguous_override(text: str) -> str | None:
    """The override named by Hydra's "Ambiguous value for argument 'k=a,b'" message, else None."""
    marker = "Ambiguous value for argument '"
    if marker not in text:
        return None
    return text.split(marker, 1)[1].split("'", 1)[0]


def _closest(name: str, choices: Iterable[str], prefix: str = "") -> str:
    near = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean {prefix}{near[0]}?" if near else ""


def typed_text(cfg: DictConfig, key: str) -> str | None:
    """``cfg[key]`` as the user typed it on the command line: Hydra reads ``input=2024`` as the int 2024,
    ``1e3`` as the float 1000.0 and ``true`` as a bool, but a folder may be named so. None stays None."""
    value = cfg[key]
    if value is None or isinstance(value, str):
        return value
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        for override in reversed(HydraConfig.get().overrides.task):
            name, _, text = override.lstrip("+~").partition("=")
            if name == key:
                return text
    return str(value)
