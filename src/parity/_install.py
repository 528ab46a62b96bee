"""How to install an optional extra, said the way that works for this copy of parity.

From a checkout (``src/parity`` beside a ``pyproject.toml``, installed editable or put on
``PYTHONPATH``) the extra is installed from that checkout: ``pip install 'parity[agents]'``
would fetch a package from an index instead. From an installed wheel it is the package's extra.
"""

from __future__ import annotations

import shlex
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def checkout_root(package: Path = PACKAGE) -> Path | None:
    """The checkout holding ``package`` (``<root>/src/parity``), or None for an installed copy.

    Examples
    --------
    >>> checkout_root(Path("/usr/lib/python3/site-packages/parity")) is None
    True
    """
    root = package.parent.parent
    if package.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def install_hint(extra: str, package: Path = PACKAGE) -> str:
    """The command that installs ``extra`` for this copy of parity.

    Examples
    --------
    >>> install_hint("agents", Path("/usr/lib/python3/site-packages/parity"))
    "pip install 'parity[agents]'"
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     (Path(d) / "src" / "parity").mkdir(parents=True)
    ...     _ = (Path(d) / "pyproject.toml").write_text("")
    ...     install_hint("agents", Path(d) / "src" / "parity") == f"pip install -e '{d}[agents]'"
    True
    """
    root = checkout_root(package)
    if root is None:
        return f"pip install 'parity[{extra}]'"
    return f"pip install -e {shlex.quote(f'{root}[{extra}]')}"
