#!/usr/bin/env python
"""normbook's GPU checks (`make test-gpu`): everything that needs a CUDA device, in one run, written to one markdown report.

Runs the Triton kernels' self-check for every dtype, `normbook.bench.check_kernels`, the `cuda` cells of the notebooks,
`normbook-bench --device cuda` (one-layer and training tables), a short float16 training run with fastai's
`MixedPrecision` on an FRN+TLU network, and the quick setting of the batch-size experiment on the GPU. The report has the
device, the torch/Triton/CUDA versions and every number. Exits 1 if a check failed; the speed targets are reported, not
enforced. On a machine without CUDA it prints that it skipped and exits 0."""
import argparse, contextlib, importlib.util, io, json, math, platform, subprocess, sys, tempfile, time, traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVICE = 'cuda'   # every step runs here

def _dev():
    import torch
    return torch.device(DEVICE, torch.cuda.current_device()) if DEVICE == 'cuda' else torch.device(DEVICE)

def _fence(text): return f"```\n{text.rstrip()}\n```"

def _captured(fn, *args, **kwargs):
    "`fn(*args, **kwargs)` and what it printed"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): res = fn(*args, **kwargs)
    return res, buf.getvalue()

def header() -> str:
    "The machine and the versions, as the report's first section"
    import torch
    p = torch.cuda.get_device_properties(0)
    triton = importlib.util.find_spec('triton') and __import__('triton').__version__
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    rows = [('device', f"{p.name}, compute capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB, {torch.cuda.device_count()} visible"),
            ('torch', torch.__version__), ('triton', triton or 'not installed'), ('CUDA', torch.version.cuda),
            ('cuDNN', str(torch.backends.cudnn.version())), ('python', platform.python_version()),
            ('CPU threads', str(torch.get_num_threads())), ('normbook commit', commit or '?'),
            ('date', datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))]
    return '# normbook GPU report\n\n| | |\n|---|---|\n' + '\n'.join(f'| {k} | {v} |' for k, v in rows)

def self_check(a):
    "The Triton kernels' first-use self-check on this GPU, for every dtype, with and without τ"
    import torch, warnings
    import normbook.fast as F
    out, ok = ['| dtype | τ | passed | warning |', '|---|---|---|---|'], True
    for dt in F._FAST_DTYPES:
        for tau in (True, False):
            with warnings.catch_warnings(record=True) as ws:
                warnings.simplefilter('always')
                passed = F._passed('triton', _dev(), dt, tau)
            ok &= passed
            msg = '; '.join(str(w.message) for w in ws).replace('|', '/')
            out.append(f"| {str(dt)[6:]} | {'yes' if tau else 'no'} | {'yes' if passed else '**no**'} | {msg} |")
    return '\n'.join(out), ok

def kernels(a):
    "`check_kernels('cuda')`: the default path against the eager one over shapes, dtypes, τ and layouts"
    from normbook.bench import check_kernels, format_checks
    rows = check_kernels(DEVICE)
    return format_checks(rows), all(r['ok'] for r in rows)

def notebooks(a):
    "The notebooks with `cuda` cells, run as tests with those cells switched on"
    p = subprocess.run([sys.executable, 'tools/run_tests.py', '--flags', 'cuda', '--only', '01_fast', '--only', '10_bench'],
                       cwd=ROOT, capture_output=True, text=True)
    return _fence((p.stdout + p.stderr)[-6000:]), p.returncode == 0

def _kernel_targets(rows) -> str:
    "The one-layer CUDA targets, row by row: fwd+bwd ≤ 1.0× cuDNN BN+ReLU, forward ≥ 70% of copy bandwidth, saved 1 + 1/N"
    out = ['| shape | dtype | fwd+bwd × cuDNN BN+ReLU (≤ 1.0) | fwd % of copy bandwidth (≥ 70%) | saved × input (1 + 1/N) | all met |',
           '|---|---|---|---|---|---|']
    for r in rows:
        if r['row'] != 'normbook FRNTLU Triton': continue
        n = math.prod(r['shape'][2:])
        met = r['ratio'] <= 1 and r['fwd_bw'] >= 0.7 and abs(r['saved'] - (1 + 1 / n)) < 1e-3
        out.append(f"| {r['shape']} | {r['dtype']} | {r['ratio']:.2f} | {r['fwd_bw'] * 100:.0f}% | {r['saved']:.4f} (want {1 + 1 / n:.4f}) | {'yes' if met else '**no**'} |")
    return '\n'.join(out)

def bench_kernels(a):
    "`normbook-bench --device cuda`: one layer, float32 and bfloat16, every row"
    from normbook.bench import bench
    rows, text = _captured(bench, devices=[DEVICE], quick=a.quick)
    return _fence(text) + '\n\nTargets, Triton row:\n\n' + _kernel_targets(rows), True

def bench_training(a):
    "`normbook-bench --train --device cuda`: training steps per second, FRN+TLU against BN+ReLU and GroupNorm"
    from normbook.bench import bench_train_all, train_targets
    rows, text = _captured(bench_train_all, device=DEVICE, quick=a.quick)
    miss = train_targets(rows)
    verdict = ('FRN+TLU is at least as fast as BN+ReLU and GroupNorm in every row.' if not miss else
               'FRN+TLU is slower in: ' + '; '.join(f"{m} bs {b} {s} px vs {o}: {v:.2f}×" for m, b, s, o, v in miss))
    return _fence(text) + '\n\n' + verdict, True

def _synthetic_dls(n=4096, bs=128):
    "fastai DataLoaders on the GPU of 28-pixel images whose class shifts their mean: learnable, and no download"
    import torch
    from fastai.data.core import DataLoaders
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randn(n, 1, 28, 28, generator=g) + (y.view(-1, 1, 1, 1) - 4.5) * 0.2
    return DataLoaders.from_dsets(list(zip(x[:-512], y[:-512])), list(zip(x[-512:], y[-512:])), bs=bs, device=DEVICE)

def mixed_precision(a):
    "Two epochs of fastai training with `MixedPrecision` (float16, GradScaler) on an FRN+TLU mininet: the loss stays finite"
    import torch, normbook.fast as F
    from fastai.learner import Learner
    from fastai.callback.fp16 import MixedPrecision
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy
    from normbook.models import get_model
    torch.manual_seed(0)
    learn = Learner(_synthetic_dls(), get_model('mininet', c_in=1, n_out=10, norm='frntlu'), loss_func=CrossEntropyLossFlat(),
                    metrics=accuracy, cbs=MixedPrecision())
    with learn.no_bar(), learn.no_logging(): learn.fit(2, 1e-2)
    losses = [float(v) for v in learn.recorder.losses]
    vals = learn.recorder.values[-1]
    fp16 = F._checked.get(('triton', _dev(), torch.float16, True))
    ok = all(map(math.isfinite, losses)) and all(map(math.isfinite, vals[:2]))
    text = (f"{len(losses)} steps; training loss {losses[0]:.4f} (first) → {losses[-1]:.4f} (last); "
            f"validation loss {vals[1]:.4f}, accuracy {vals[2]:.4f}; all losses finite: {ok}; "
            f"float16 Triton kernels self-checked: {fp16}")
    return text, ok and fp16 is not None

def experiment(a):
    "The quick setting of `nbs/experiments/batch_size.ipynb` (its `quick_grid` and `quick_base`), on the GPU"
    from normbook.experiments import sweep, report
    nb = json.loads((ROOT / 'nbs/experiments/batch_size.ipynb').read_text())
    cell = next(''.join(c['source']) for c in nb['cells'] if 'quick_grid =' in ''.join(c['source']))
    ns = {}
    exec('\n'.join(l for l in cell.splitlines() if l.startswith(('quick_grid =', 'quick_base ='))), ns)
    t0 = time.time()
    df = sweep(ns['quick_grid'], Path(tempfile.mkdtemp()) / 'quick.jsonl', ns['quick_base'], device=DEVICE, progress=False)
    tab = report(df)[[('final_acc', 'mean'), ('final_loss', 'mean'), ('imgs_per_s', 'mean')]].round(4)
    text = f"grid {ns['quick_grid']}, base {ns['quick_base']}, {len(df)} runs in {time.time() - t0:.0f} s\n\n" + _fence(tab.to_string())
    return text, len(df) == math.prod(len(v) for v in ns['quick_grid'].values()) and bool((df.final_acc > 0.2).all())

STEPS = [('Triton self-check', self_check), ('Kernels against the eager path', kernels), ('Notebook cells marked cuda', notebooks),
         ('Benchmark: one layer', bench_kernels), ('Benchmark: training throughput', bench_training),
         ('float16 training with MixedPrecision', mixed_precision), ('Batch-size experiment, quick setting', experiment)]

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='gpu_report.md', help='where to write the markdown report')
    ap.add_argument('--quick', action='store_true', help='shorter benchmark timings')
    ap.add_argument('--only', action='append', default=[], help='run only the steps whose title contains this (repeatable)')
    a = ap.parse_args(argv)
    import torch
    if not torch.cuda.is_available():
        print('test-gpu: skipped: no CUDA device (torch.cuda.is_available() is False), so no GPU check was run and no report was written.')
        return 0
    if importlib.util.find_spec('triton') is None:
        subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'triton'], check=False)
    out, failed = [header()], []
    for title, fn in [s for s in STEPS if not a.only or any(o.lower() in s[0].lower() for o in a.only)]:
        print(f'test-gpu: {title} ...', flush=True)
        t0 = time.time()
        try: body, ok = fn(a)
        except Exception: body, ok = _fence(traceback.format_exc()[-6000:]), False
        if not ok: failed.append(title)
        out.append(f"## {title}\n\n{fn.__doc__}. **{'passed' if ok else 'FAILED'}** in {time.time() - t0:.0f} s.\n\n{body}")
        Path(a.out).write_text('\n\n'.join(out) + '\n')   # after every step, so that a crash keeps what ran
        print(f"test-gpu: {title}: {'passed' if ok else 'FAILED'} ({time.time() - t0:.0f} s)", flush=True)
    print(f"test-gpu: report written to {a.out}; " + (f"FAILED: {', '.join(failed)}" if failed else 'every check passed'))
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
