#!/usr/bin/env python
"""Data-parallel training (`normbook.distributed`) on two CPU processes started by `torchrun` with the Gloo backend.

Run as a script, it launches this same file under `torchrun --nproc_per_node 2` (the worker half, below) and checks:
(a) a short run on two processes at batch 16 agrees with one process at batch 32: exactly for FRN, which does not
    depend on the batch, within noise for BatchNorm; rank 0 alone writes one result line per run;
(b) one SGD step on two processes at batch 16 with plain BatchNorm gives the parameters of one process at batch 32 with
    BatchNorm statistics over each group of 16 (ghost batch normalization);
(d) with `sync_bn=True` (`CPUSyncBatchNorm`) it gives those of plain BatchNorm over all 32; PyTorch's own
    `nn.SyncBatchNorm` is refused on CPUs, as the docs say;
(c) a rank that dies makes `torchrun` exit with an error, and no result line is written."""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import torch
import torch.nn.functional as F
from torch import nn

N_TRAIN, N_VALID, LR = 1024, 301, 0.05  # 301 validation images: shards of 150 and 151, a count that shows double counting
N_FRN = 256  # 8 steps: longer, the float rounding that differs between 2 × 16 and 1 × 32 grows into visibly different weights

def train_run(out, norm, bs, n_train=N_TRAIN, sync_bn=False, die_at=None):
    "Train mininet on `n_train` Fashion-MNIST images for one epoch at per-process batch `bs`; rank 0 appends its result to `out`"
    from fastai.torch_core import set_seed
    from fastai.callback.core import Callback
    from normbook.experiments import Experiment, get_data, build_model, make_learner, append_result
    from normbook.distributed import init_distrib, distrib_ctx_for, distrib_record, barrier, is_main, rank
    exp = Experiment(norm=norm, bs=bs, lr=LR, n_train=n_train, n_valid=N_VALID, seed=1)
    device = init_distrib('cpu')
    set_seed(exp.seed); dls = get_data(exp, device=device)
    set_seed(exp.seed); learn = make_learner(exp, dls, build_model(exp, 1, dls.c))
    class Die(Callback):
        def after_batch(self):
            if self.training and rank() == 1 and self.iter == die_at: os._exit(3)
    with distrib_ctx_for(learn, sync_bn), learn.no_logging(), learn.no_bar(): learn.fit(1, LR, cbs=[Die()] if die_at is not None else [])
    train_loss, valid_loss, acc = learn.recorder.values[-1]
    res = dict(norm=norm, sync_bn=sync_bn, train_loss=train_loss, valid_loss=valid_loss, accuracy=acc, **distrib_record(bs),
               params=torch.cat([p.detach().flatten() for p in learn.model.parameters()])[::97].tolist())
    barrier()
    if is_main(): append_result(out, res)
    return res

def step_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

def step_learner(model, bs):
    "A normbook `Learner` whose training set is one global batch of 32 fixed images"
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from normbook.experiments import Experiment, make_learner
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (40, 1, 12, 12), dtype=torch.uint8, generator=g), torch.randint(0, 10, (40,), generator=g)
    x = (x / 255 - 0.3) / 0.3
    trn = DataLoader(list(zip(x[:32], y[:32])), bs=bs, shuffle=False, drop_last=True)
    dls = DataLoaders(trn, DataLoader(list(zip(x[32:], y[32:])), bs=bs), device='cpu')
    return make_learner(Experiment(bs=bs, lr=0.5), dls, model)

def one_step(learn, ctx):
    with ctx, learn.no_logging(), learn.no_bar(): learn.fit(1, 0.5)
    return {k: v.detach().clone() for k, v in learn.model.state_dict().items()}

def worker(mode, out):
    "What each of the two processes runs"
    from normbook.distributed import init_distrib, distrib_ctx_for, is_main
    from torch.nn.parallel import DistributedDataParallel
    init_distrib('cpu')
    if mode == 'train':
        for norm in ('frn', 'bn'): train_run(out/'results.jsonl', norm, 16, N_FRN if norm == 'frn' else N_TRAIN)
        for sync in (False, True):
            learn = step_learner(step_model(), 16)
            sd = one_step(learn, distrib_ctx_for(learn, sync_bn=sync))
            if is_main(): torch.save(sd, out/f'step_sync{int(sync)}.pt')
        try: DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(step_model())); msg = ''
        except ValueError as e: msg = str(e)
        if is_main(): (out/'torch_syncbn.txt').write_text(msg)
    elif mode == 'die': train_run(out/'results.jsonl', 'bn', 16, die_at=2)

class GhostBN2d(nn.BatchNorm2d):
    "BatchNorm whose training statistics are those of each group of `group_size` samples: a loop of `F.batch_norm`"
    group_size = 16
    def forward(self, x):
        if not self.training: return super().forward(x)
        return torch.cat([F.batch_norm(x[i:i+self.group_size], None, None, self.weight, self.bias, True, 0., self.eps)
                          for i in range(0, len(x), self.group_size)])

def torchrun(mode, out, timeout=120):
    launcher = Path(sys.executable).parent/'torchrun'
    cmd = [str(launcher)] if launcher.exists() else [sys.executable, '-m', 'torch.distributed.run']
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    t0 = time.time()
    p = subprocess.run(cmd + ['--standalone', '--nproc_per_node', '2', __file__, mode, str(out)], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    print(f"torchrun {mode}: exit {p.returncode} in {time.time() - t0:.0f}s")
    return p

def check(cond, msg):
    if not cond: raise AssertionError(msg)
    print('ok ', msg)

def main():
    out = Path(tempfile.mkdtemp(prefix='normbook-ddp-'))
    p = torchrun('train', out)
    if p.returncode != 0: print(p.stdout[-3000:], p.stderr[-6000:]); sys.exit(1)
    lines = (out/'results.jsonl').read_text().splitlines()
    check(len(lines) == 2, f"rank 0 alone wrote one line per run (got {len(lines)} lines for 2 runs)")
    two = {r['norm']: r for r in map(json.loads, lines)}
    check(two['bn']['world_size'] == 2 and two['bn']['bs_per_device'] == 16 and two['bn']['global_bs'] == 32, "the record says world_size 2, per-device batch 16, global batch 32")
    one = {norm: train_run(out/'one.jsonl', norm, 32, N_FRN if norm == 'frn' else N_TRAIN) for norm in ('frn', 'bn')}
    check(one['bn']['world_size'] == 1 and one['bn']['global_bs'] == 32, "the one-process record says world_size 1, global batch 32")
    f2, f1 = two['frn'], one['frn']
    err = max(abs(a - b) for a, b in zip(f2['params'], f1['params']))
    check(err < 1e-4, f"(a) FRN: 2 processes × 16 end with the weights of 1 process × 32 (largest difference {err:.2g})")
    check(abs(f2['valid_loss'] - f1['valid_loss']) < 1e-4 and abs(f2['accuracy'] - f1['accuracy']) < 1e-6,
          f"(a) FRN: same validation loss and accuracy over the 301 images, none counted twice ({f2['valid_loss']:.5f}/{f1['valid_loss']:.5f}, {f2['accuracy']:.4f}/{f1['accuracy']:.4f})")
    check(abs(f2['train_loss'] - f1['train_loss']) < 1e-4, f"(a) FRN: same smoothed training loss ({f2['train_loss']:.5f}/{f1['train_loss']:.5f})")
    b2, b1 = two['bn'], one['bn']
    check(b1['accuracy'] > 0.5 and abs(b2['accuracy'] - b1['accuracy']) < 0.1,
          f"(a) BN: 2 × 16 and 1 × 32 agree within noise (accuracy {b2['accuracy']:.4f} vs {b1['accuracy']:.4f})")

    ghost, plain = step_model(), step_model()
    for i in (1, 4): ghost[i] = GhostBN2d(8); ghost[i].load_state_dict(plain[i].state_dict())
    ref_ghost = one_step(step_learner(ghost, 32), torch.enable_grad())
    ref_plain = one_step(step_learner(plain, 32), torch.enable_grad())
    ddp, ddp_sync = torch.load(out/'step_sync0.pt'), torch.load(out/'step_sync1.pt')
    params = [k for k in ref_plain if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
    moved = max((ref_plain[k] - step_learner(step_model(), 32).model.state_dict()[k]).abs().max().item() for k in params)
    check(moved > 1e-2, f"the step moves the parameters (by up to {moved:.3g})")
    err = max((ddp[k] - ref_ghost[k]).abs().max().item() for k in params)
    check(err < 1e-5, f"(b) one step on 2 processes × 16 = one step on 1 × 32 with BN over groups of 16 (largest difference {err:.2g})")
    try: from normbook.norms import GhostBatchNorm2d  # the 'gbn' norm, where this version has it
    except ImportError: print('-- normbook.norms has no GhostBatchNorm2d: the check against it is skipped')
    else:
        gbn = step_model()
        for i in (1, 4): sd = gbn[i].state_dict(); gbn[i] = GhostBatchNorm2d(8, group_size=16); gbn[i].load_state_dict(sd)
        ref_gbn = one_step(step_learner(gbn, 32), torch.enable_grad())
        err = max((ddp[k] - ref_gbn[k]).abs().max().item() for k in params)
        check(err < 1e-5, f"(b) ... = one step on 1 × 32 with GhostBatchNorm2d(group_size=16), 'gbn' (largest difference {err:.2g})")
    gap = max((ddp[k] - ref_plain[k]).abs().max().item() for k in params)
    check(gap > 100 * max(err, 1e-7), f"(b) ... and not plain BN over 32 (largest difference {gap:.2g})")
    err = max((ddp_sync[k] - ref_plain[k]).abs().max().item() for k in ref_plain)
    check(err < 1e-5, f"(d) with sync_bn: = one step on 1 × 32 with plain BN, running statistics included (largest difference {err:.2g})")
    check('only work with GPU modules' in (out/'torch_syncbn.txt').read_text(), "(d) PyTorch's nn.SyncBatchNorm is refused under DDP on CPUs")

    p = torchrun('die', out)
    check(p.returncode != 0, f"(c) a rank that dies makes torchrun exit non-zero (exit {p.returncode})")
    check(len((out/'results.jsonl').read_text().splitlines()) == 2, "(c) and no result line is written")

if __name__ == '__main__':
    if 'LOCAL_RANK' in os.environ: worker(sys.argv[1], Path(sys.argv[2]))
    else: main()
