"""Make `import sim` work from a plain checkout too (before `pip install -e .`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
