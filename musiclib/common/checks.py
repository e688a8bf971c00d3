"""Argument checks shared by every musiclib module (one definition each, one wording of the error)."""

from __future__ import annotations

import numbers


class UsageError(ValueError):
    """Input that its user can correct: a bad flag or setting, a missing file, a profile that does not parse.

    ``python -m musiclib`` prints the message of a ``UsageError`` as one line and exits with status 2;
    any other exception is a bug and shows its traceback. musiclib's errors about user input
    (``TrainingError``, ``ProfileError``, ``DataError``, ...) are subclasses.
    """


class MissingFileError(UsageError, FileNotFoundError):
    """A file or folder that the user named does not exist or does not hold what it should."""


def positive_int(value, name: str, *, error: type[Exception] = ValueError) -> int:
    """Check that ``value`` is a whole number of at least 1 and return it as an ``int``.

    Parameters
    ----------
    value : int
        The value to check. Python ints and numpy integers are accepted; bools, floats (even
        ``2.0``) and strings are not.
    name : str
        How the error message names the value, e.g. ``"n_songs"`` or ``"--num_layers"``.
    error : type of Exception, optional
        The exception class to raise (default ``ValueError``); modules pass their own, e.g.
        ``TrainingError`` or ``DataError``, which are ``ValueError`` subclasses.

    Returns
    -------
    int
        ``value`` as a plain Python ``int``.

    Raises
    ------
    ValueError
        (or ``error``) ``"<name> must be a positive integer, got <value!r>"``.

    Examples
    --------
    >>> positive_int(3, "span")
    3
    >>> positive_int(0, "span")
    Traceback (most recent call last):
    ...
    ValueError: span must be a positive integer, got 0
    """
    return whole_number(value, name, minimum=1, error=error)


def whole_number(value, name: str, *, minimum: int = 0, error: type[Exception] = ValueError) -> int:
    """Check that ``value`` is a whole number of at least ``minimum`` and return it as an ``int``.

    Parameters
    ----------
    value : int
        The value to check (Python or numpy integer; not a bool, float or string).
    name : str
        How the error message names the value.
    minimum : int, optional
        The smallest allowed value (0: "non-negative", 1: "positive").
    error : type of Exception, optional
        The exception class to raise (default ``ValueError``).

    Returns
    -------
    int
        ``value`` as a plain Python ``int``.

    Raises
    ------
    ValueError
        (or ``error``) ``"<name> must be a positive integer, got <value!r>"`` for ``minimum`` 1,
        ``"... a non-negative integer ..."`` for 0, ``"... an integer >= <minimum> ..."`` otherwise.

    Examples
    --------
    >>> whole_number(0, "patience")
    0
    >>> whole_number(-1, "patience")
    Traceback (most recent call last):
    ...
    ValueError: patience must be a non-negative integer, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        wanted = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise error(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def open_fraction(value, name: str, *, error: type[Exception] = ValueError) -> float:
    """Check that ``value`` is a number strictly between 0 and 1 (a confidence level, say) and return it.

    Parameters
    ----------
    value : float
        The value to check.
    name : str
        How the error message names the value.
    error : type of Exception, optional
        The exception class to raise (default ``ValueError``).

    Returns
    -------
    float

    Examples
    --------
    >>> open_fraction(0.95, "confidence")
    0.95
    >>> open_fraction(95, "confidence")
    Traceback (most recent call last):
    ...
    ValueError: confidence must be between 0 and 1 (e.g. 0.95), got 95
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise error(f"{name} must be between 0 and 1 (e.g. 0.95), got {value!r}")
    return float(value)
