"""The example data behind ``parity demo`` and ``parity agents example``: a seeded robot-arm
simulation and synthetic agent transcripts."""
