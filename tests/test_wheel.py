#!/usr/bin/env python
"""The built wheel, as `pip install normbook` users get it.

Builds the wheel from this checkout, checks what is in it (every module, the LICENSE that `pyproject.toml` names, the
console scripts), installs it into a new virtual environment and there, from a folder outside the checkout:
imports every module of the package from the installed wheel, with the optional and development packages
(nbdev, execnb, timm, accelerate, pytorch-optimizer, tensorboard, segmentation_models_pytorch) made unimportable,
and runs `normbook-train --help`, `normbook-report --help`, `normbook-bench --help` and `python -m normbook.cli`.

By default the new environment reads the running environment's packages (a `.pth` file) for the
dependencies, so the test takes seconds, not the download of PyTorch. With NORMBOOK_WHEEL_FULL=1 it installs into a
clean environment and lets pip resolve every dependency from the package index, which takes minutes."""
import os, subprocess, sys, tempfile, time, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get('NORMBOOK_WHEEL_FULL') == '1'
OPTIONAL = ('nbdev', 'execnb', 'timm', 'accelerate', 'pytorch_optimizer', 'tensorboard', 'segmentation_models_pytorch')
# a `sitecustomize` for the new environment: importing an optional package fails, as where it is not installed
BLOCK = f"""import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {OPTIONAL!r}: raise ImportError(f"{{name}} is not installed (blocked by the wheel test)")
sys.meta_path.insert(0, _Block())
"""
CHECK = """import importlib, pkgutil, sys, warnings
warnings.simplefilter('ignore', FutureWarning)
import normbook
assert 'site-packages' in normbook.__file__ and '{root}' not in normbook.__file__, normbook.__file__
mods = sorted(m.name for m in pkgutil.iter_modules(normbook.__path__, 'normbook.'))
for m in mods: importlib.import_module(m)
bad = sorted(m for m in sys.modules if m.split('.')[0] in {optional!r})
assert not bad, bad
print('imported', len(mods), 'modules:', ' '.join(mods))
"""

def sh(*cmd, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if p.returncode: sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p

def ok(msg): print('ok ', msg, flush=True)

def main():
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix='normbook-wheel-'))
    sh(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp/'dist', ROOT)
    whl, = (tmp/'dist').glob('normbook-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    mods = sorted(p.name for p in (ROOT/'normbook').glob('*.py'))
    missing = [m for m in mods if f'normbook/{m}' not in names]
    assert not missing, f"modules missing from the wheel: {missing}"
    assert any(n.endswith('.dist-info/licenses/LICENSE') for n in names), "no LICENSE in the wheel"
    ep = zipfile.ZipFile(whl).read(next(n for n in names if n.endswith('entry_points.txt'))).decode()
    for s in ('normbook-train', 'normbook-sweep', 'normbook-report', 'normbook-demo', 'normbook-bench'): assert s in ep, (s, ep)
    ok(f"built {whl.name} ({time.time() - t0:.0f}s): all {len(mods)} modules, LICENSE, console scripts")

    env_dir = tmp/'venv'
    # without the checkout on PYTHONPATH, where pip would find this checkout's normbook.egg-info and skip the install
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    venv.EnvBuilder(with_pip=False).create(env_dir)  # the running pip installs into it (`pip --python`)
    py, bin_ = env_dir/'bin'/'python', env_dir/'bin'
    site = sh(py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])', env=env).stdout.strip()
    sh(sys.executable, '-m', 'pip', '--python', py, 'install', '-q', *([] if FULL else ['--no-deps']), whl, env=env, timeout=3600)
    if not FULL:  # then the dependencies: the running environment's packages, after the new environment's own (added after the install, so that pip does not see the running environment's normbook)
        import sysconfig
        Path(site, '_deps.pth').write_text('\n'.join(dict.fromkeys(sysconfig.get_paths()[k] for k in ('purelib', 'platlib'))) + '\n')
    Path(site, 'sitecustomize.py').write_text(BLOCK)
    run = dict(cwd=tmp, env=env, timeout=600)
    out = sh(py, '-c', CHECK.format(root=ROOT, optional=OPTIONAL), **run).stdout
    ok(f"installed ({'clean environment' if FULL else 'dependencies from the running environment'}), optional packages blocked; {out.strip()}")
    h = sh(bin_/'normbook-train', '--help', **run).stdout
    assert '--batch-size' in h and '--weight-path' in h and '--sync-bn' in h, h[:500]
    assert 'usage: normbook-report' in sh(bin_/'normbook-report', '--help', **run).stdout
    b = sh(bin_/'normbook-bench', '--help', **run).stdout
    assert 'usage: normbook-bench' in b and '--train' in b, b[:500]
    p = subprocess.run([py, '-m', 'normbook.cli'], capture_output=True, text=True, **run)
    assert p.returncode == 2 and 'usage: python -m normbook.cli' in p.stderr, (p.returncode, p.stderr)
    ok(f"normbook-train --help, normbook-report --help, normbook-bench --help and python -m normbook.cli run from the wheel ({time.time() - t0:.0f}s in all)")

if __name__ == '__main__': main()
