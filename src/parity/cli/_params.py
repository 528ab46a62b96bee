"""Click parameter types with parity's bounds (:mod:`parity.limits`): counts with a maximum,
seeds in ``[0, 2**63 − 1]`` and finite floats. A bad value is a usage error: one ``error:``
line naming the option, the rule (with the limit) and the value, exit code 2."""

from __future__ import annotations

import math

import click

from parity.limits import MAX_COUNT, MAX_RESAMPLES, MAX_SEED, MAX_WORKERS


class Count(click.ParamType):
    """An integer in ``[minimum, maximum]`` (the maximum from :mod:`parity.limits`).

    Examples
    --------
    >>> Count(maximum=10).convert("7", None, None)
    7
    """

    name = "integer"

    def __init__(self, minimum: int = 1, maximum: int = MAX_COUNT) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip().replace("_", ""), 10)
            except ValueError:
                self.fail(f"must be an integer; got {value!r}", param, ctx)
        if number < self.minimum:
            self.fail(f"{number} is not in the range x>={self.minimum}", param, ctx)
        if number > self.maximum:
            self.fail(f"must be at most {self.maximum:,}; got {number}", param, ctx)
        return number


class Finite(click.FloatRange):
    """A finite float (no nan, no ±inf), optionally within a range (click.FloatRange's).

    Examples
    --------
    >>> Finite(0, 1).convert("0.5", None, None)
    0.5
    """

    name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"must be a finite number; got {value!r}", param, ctx)
        return super().convert(number, param, ctx)


#: ``--permutations``, ``--bootstrap``: 1 to 10 million draws.
RESAMPLES = Count(1, MAX_RESAMPLES)
#: ``--seed``: 0 to 2**63 − 1.
SEED = Count(0, MAX_SEED)
#: ``--workers``: 1 to 1024.
WORKERS = Count(1, MAX_WORKERS)
#: Any other count (clusters, step numbers).
COUNT = Count(1, MAX_COUNT)
#: A finite float.
FINITE = Finite()
