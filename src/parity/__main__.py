"""``python -m parity``: the ``parity`` command, for when its script is not on ``PATH``."""

from parity.cli.main import run

if __name__ == "__main__":
    run()
