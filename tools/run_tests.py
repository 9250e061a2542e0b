#!/usr/bin/env python
"""normbook's test command: the nbdev sync checks, every notebook run as a test, and the scripts in `tests/`.

Prints one line per test and ends with `N passed, N failed`; exits non-zero when anything failed.
Options: `--only PATTERN` runs only the notebooks/scripts whose path contains PATTERN, `--skip-checks` skips
the clean/export checks, `-j N` runs N tests at a time (default 2), `--flags F1,F2` also runs cells marked with those flags.

Every test runs in a fresh process, so each would pay the first-use compile of FRN's compiled CPU path again: all but
the notebooks in `COMPILED`, which test that path, run with `NORMBOOK_COMPILE=0` (the eager path), unless the
environment already sets `NORMBOOK_COMPILE`."""
import argparse, hashlib, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPILED = ('nbs/01_fast.ipynb',)  # the tests that run FRN's compiled CPU path; the others run with NORMBOOK_COMPILE=0

def _snapshot():
    "Hash every file that `nbdev-clean` and `nbdev-export` may rewrite"
    files = [*ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('normbook/**/*.py')]
    return {str(p.relative_to(ROOT)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files
            if '.ipynb_checkpoints' not in p.parts}

def _changed(before, after): return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))

def check_sync():
    "Run `nbdev-clean` then `nbdev-export` and report each as a test that fails if it changed a file"
    res = []
    for name, cmd in [('notebooks are clean (nbdev-clean)', 'nbdev-clean'), ('library matches notebooks (nbdev-export)', 'nbdev-export')]:
        before = _snapshot()
        p = subprocess.run([str(BIN/cmd)], cwd=ROOT, capture_output=True, text=True)
        changed = _changed(before, _snapshot())
        ok = p.returncode == 0 and not changed
        msg = p.stderr[-2000:] if p.returncode else ('changed: ' + ', '.join(changed[:10]) + '; run `make export` and commit' if changed else '')
        res.append((name, ok, 0.0, msg))
    return res

_NB_CODE = """
import sys
from nbdev.test import test_nb
from nbdev.config import get_config
flags = get_config().tst_flags.split()
force = [f for f in sys.argv[2].split(',') if f]
ok, t = test_nb(sys.argv[1], skip_flags=[f for f in flags if f not in force], force_flags=force, showerr=True)
sys.exit(0 if ok else 1)
"""

def run_one(path, flags, timeout):
    "Run one notebook (through nbdev's `test_nb`) or one script in its own process"
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'MPLBACKEND': 'Agg', 'PYTHONUNBUFFERED': '1'}
    if 'NORMBOOK_COMPILE' not in os.environ and str(path.relative_to(ROOT)) not in COMPILED: env['NORMBOOK_COMPILE'] = '0'
    cmd = ([sys.executable, '-c', _NB_CODE, str(path), flags] if path.suffix == '.ipynb' else [sys.executable, str(path)])
    t0 = time.time()
    try: p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired: return str(path.relative_to(ROOT)), False, time.time()-t0, f'timed out after {timeout}s'
    return str(path.relative_to(ROOT)), p.returncode == 0, time.time()-t0, (p.stdout[-3000:] + p.stderr[-6000:]) if p.returncode else ''

def discover(only):
    "Every notebook under nbs/ (not checkpoints or underscored files) and every `tests/test_*.py`"
    nbs = [p for p in sorted(ROOT.glob('nbs/**/*.ipynb')) if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_')]
    tests = sorted(ROOT.glob('tests/test_*.py'))
    found = [p for p in nbs + tests if not only or any(o in str(p) for o in only)]
    return found

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--only', action='append', default=[], help='run only tests whose path contains this (repeatable)')
    ap.add_argument('--skip-checks', action='store_true', help='skip the nbdev-clean / nbdev-export checks')
    ap.add_argument('-j', type=int, default=2, help='tests run at a time')
    ap.add_argument('--flags', default='', help='comma-separated cell flags to run too (e.g. slow)')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds allowed per test')
    a = ap.parse_args()
    t0 = time.time()
    results = [] if a.skip_checks or a.only else check_sync()
    for name, ok, t, msg in results: print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"\n{msg}" if msg else ''), flush=True)
    todo = discover(a.only)
    # scripts in tests/ may build on the notebooks' outputs (the docs test builds the site), so they run last
    nbs, scripts = [p for p in todo if p.suffix == '.ipynb'], [p for p in todo if p.suffix != '.ipynb']
    def _report(r):
        name, ok, t, msg = r
        print(f"{'PASS' if ok else 'FAIL'}  {name}  ({t:.0f}s)", flush=True)
        if not ok: print('    ' + msg.replace('\n', '\n    '), flush=True)
        results.append(r)
    with ThreadPoolExecutor(max(1, a.j)) as ex:
        for r in ex.map(lambda p: run_one(p, a.flags, a.timeout), nbs): _report(r)
    for p in scripts: _report(run_one(p, a.flags, a.timeout))
    npass = sum(r[1] for r in results); nfail = len(results) - npass
    if not results: print('no tests found')
    print(f'total time {time.time()-t0:.0f}s')
    print(f'{npass} passed, {nfail} failed')
    sys.exit(1 if nfail or not results else 0)

if __name__ == '__main__': main()
