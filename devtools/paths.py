"""Where things are: the one definition of the repository root."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The `picus` console script of the interpreter running this (the project's venv).
PICUS = Path(sys.executable).with_name("picus")
