"""The training engine under faults (SIGKILL mid-epoch, NaN loss) and under torchrun with DDP (gloo on CPU)."""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hgae.core import load_checkpoint

SCRIPT = Path(__file__).parent / 'engine_script.py'


def run(*args, check=True):
    r = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and r.returncode: raise AssertionError(r.stderr[-3000:])
    return r


def history(d):
    with open(d / 'history.csv') as f:
        return [{k: v for k, v in row.items() if k != 'seconds'} for row in csv.DictReader(f)]


def test_resume_after_sigkill_is_bitwise_identical(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    a.mkdir(); b.mkdir()
    run(a, 3, 8)
    r = run(b, 3, 8, '--kill-at', 1, 2, check=False)       # killed in the middle of epoch 2 (of 3)
    assert r.returncode == -9, r.stderr[-2000:]
    assert load_checkpoint(b / 'ckpt.pt')['epoch'] == 1      # the last complete epoch's checkpoint, intact
    run(b, 3, 8)                                             # resume
    wa, wb = torch.load(a / 'final-rank0.pt'), torch.load(b / 'final-rank0.pt')
    assert all(torch.equal(wa[k], wb[k]) for k in wa), 'weights differ after resume'
    assert history(a) == history(b) and len(history(a)) == 3


def test_nan_loss_names_epoch_and_batch_and_keeps_checkpoint(tmp_path):
    from engine_script import Blobs
    from hgae.hourglass import HeatmapTask, NonFiniteLoss, StackedHourglass, fit, make_loader

    class PoisonedTask(HeatmapTask):
        calls = 0
        def step(self, model, batch, device):
            loss, st = super().step(model, batch, device)
            PoisonedTask.calls += model.training
            return (loss * float('nan') if PoisonedTask.calls == 7 else loss), st   # epoch 1 (0-based), batch 2

    model = StackedHourglass(1, 16, 4)
    opt = torch.optim.RMSprop(model.parameters(), lr=2.5e-4)
    loader = make_loader(Blobs(32), 8)
    ckpt = tmp_path / 'ckpt.pt'
    with pytest.raises(NonFiniteLoss, match='epoch 1, batch 2'):
        fit(model, loader, None, PoisonedTask(), 3, opt, ckpt=ckpt, progress=False)
    state = load_checkpoint(ckpt)
    assert state['epoch'] == 1 and len(state['history']) == 1


@pytest.mark.skipif(shutil.which('torchrun') is None, reason='torchrun not on PATH')
def test_ddp_two_processes_match_one_process_with_double_batch(tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    one.mkdir(); two.mkdir()
    run(one, 2, 8)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(['torchrun', '--standalone', '--nproc_per_node=2', str(SCRIPT), str(two), '2', '4'],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    w0, w1, ref = (torch.load(two / 'final-rank0.pt'), torch.load(two / 'final-rank1.pt'), torch.load(one / 'final-rank0.pt'))
    assert all(torch.equal(w0[k], w1[k]) for k in w0 if 'running' not in k and 'num_batches' not in k), 'ranks diverged'
    # Batch norm normalises each process's half batch (SyncBatchNorm is GPU-only), so the runs agree closely, not exactly.
    params = [k for k in ref if ref[k].is_floating_point() and 'running' not in k]
    rel = max(float((w0[k] - ref[k]).norm() / ref[k].norm().clamp(min=1e-12)) for k in params)
    drift = max(float((w0[k] - init).norm() / init.norm().clamp(min=1e-12))
                for k, init in _init_weights().items() if k in params)
    assert rel < 0.5 * drift, f'DDP differs from one process by {rel:.3g} (relative), training moved weights by {drift:.3g}'
    assert len(history(two)) == 2


def _init_weights():
    from hgae.core import seed_everything
    from hgae.hourglass import StackedHourglass
    seed_everything(0)
    return StackedHourglass(1, 16, 4).state_dict()
