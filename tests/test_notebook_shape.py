#!/usr/bin/env python
"""The notebooks keep the shape the project writes them in: every exported cell is at most 30 lines, every notebook
opens (after its directives and imports) with a `# Title` and a `> one-line summary`, and no reader page shows an issue number."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 30
EXPORT = re.compile(r'^#\|\s*export', re.M)

def problems(fn:Path) -> list:
    "What in notebook `fn` breaks the shape"
    cells, out = json.loads(fn.read_text())['cells'], []
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'code' and EXPORT.match(src.lstrip()) and len(src.splitlines()) > MAX_LINES:
            out.append(f"exported cell {c.get('id')} has {len(src.splitlines())} lines (at most {MAX_LINES})")
        if c['cell_type'] == 'markdown' and re.search(r'(?<![\w/])#\d{1,3}\b|\bissue \d+', src, re.I):
            out.append(f"markdown cell {c.get('id')} mentions an issue number")
    md = [''.join(c['source']) for c in cells if c['cell_type'] == 'markdown']
    if not md or not re.match(r'# \S', md[0]) or not re.search(r'^> \S', md[0], re.M):
        out.append("the first markdown cell is not '# Title' with a '> summary' line")
    return out

if __name__ == '__main__':
    nbs = [p for p in sorted(ROOT.glob('nbs/**/*.ipynb')) if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_')]
    bad = {str(p.relative_to(ROOT)): ps for p in nbs if (ps := problems(p))}
    for fn, ps in bad.items(): print(fn, *ps, sep='\n  ')
    print(f"{len(nbs)} notebooks, {len(bad)} with problems")
    sys.exit(1 if bad else 0)
