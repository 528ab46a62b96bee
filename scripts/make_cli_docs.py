"""Write docs/cli.md, the CLI reference, from the click commands (``--check``: only compare).

Run from anywhere: ``python scripts/make_cli_docs.py`` (needs parity importable, e.g. the
project's virtual environment).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from parity.cli.docs import cli_reference  # noqa: E402

TARGET = ROOT / "docs" / "cli.md"


def main(argv: list[str]) -> int:
    text = cli_reference()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run scripts/make_cli_docs.py")
            return 1
        return 0
    TARGET.write_bytes(text.encode("utf-8"))
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
