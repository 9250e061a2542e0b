#!/usr/bin/env python
"""README.md must be what `make readme` writes from nbs/index.ipynb (nbdev's processing, then pandoc to GitHub markdown)."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
p = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--check-readme'], cwd=ROOT, capture_output=True, text=True)
print(p.stdout, p.stderr[-3000:], sep='')
sys.exit(p.returncode)
