"""The errors a user can fix, and how entry points report them.

Every problem a user can act on (a bad data file, checkpoint, export request or config value) raises a
subclass of :class:`SeaSkyError` whose message names the file or key and says what is wrong. Entry points
run inside :func:`exit_on_error`: the message is logged on one line (a data set's problem list adds one
line per problem) and the process exits with status 2, without a traceback. A config value left ``???``
that the command line must give is reported the same way, as a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

EXIT_USER_ERROR = 2


class SeaSkyError(Exception):
    """A problem the user can fix; the message names the file or key and what is wrong."""


class DataError(SeaSkyError, ValueError):
    """A data set, image or mask problem; the message names the file(s)."""


class CheckpointError(SeaSkyError):
    """A checkpoint or exported model that cannot be used (missing, unreadable, not seaSky's)."""


class ExportError(SeaSkyError):
    """An export that cannot be done (bad format, an export that lost a dynamic dimension)."""


class TrainingError(SeaSkyError):
    """Training that cannot go on (a non-finite loss); the message says where the last good checkpoint is."""


class ConfigError(SeaSkyError, ValueError):
    """A config value of the wrong type or out of range; the message names the key."""


def one_line(err: BaseException) -> str:
    """``TypeName: message`` on one line (whitespace collapsed, at most 300 characters of message)."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}"


@contextlib.contextmanager
def exit_on_error(log: logging.Logger, reraise: bool = False) -> Iterator[None]:
    """Log a :class:`SeaSkyError` (or a missing ``???`` config value, as a ConfigError) as one error line
    and exit with status 2 (``reraise``: raise it again after logging instead, e.g. so that Hydra records a
    failed multirun job and goes on)."""
    from hydra.errors import InstantiationException
    from omegaconf.errors import MissingMandatoryValue

    try:
        try:
            yield
        except (MissingMandatoryValue, InstantiationException) as err:
            missing = err if isinstance(err, MissingMandatoryValue) else err.__cause__
            if not isinstance(missing, MissingMandatoryValue):
                raise
            key = missing.full_key or "a config value"  # a ??? in the config that the command line must set
            raise ConfigError(f"{key}: no value given; pass {key}=... on the command line") from None
    except SeaSkyError as err:
        log.error("%s", err)
        if reraise:
            raise
        raise SystemExit(EXIT_USER_ERROR) from None
