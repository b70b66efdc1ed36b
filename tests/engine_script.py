"""A tiny, fully seeded training run for the engine's fault and DDP tests (run as a script or under torchrun).

usage: python engine_script.py OUT_DIR EPOCHS BATCH [--kill-at EPOCH BATCH] [--no-resume]
Writes OUT_DIR/ckpt.pt, OUT_DIR/history.csv and, at the end, OUT_DIR/final-rank{R}.pt (the weights).
"""
import os
import signal
import sys
from pathlib import Path

import torch

from hgae.core import seed_everything
from hgae.hourglass import HeatmapTask, StackedHourglass, dist_info, fit, make_loader


class Blobs(torch.utils.data.Dataset):
    """Random images with one Gaussian heatmap per joint at a random place: deterministic per index."""
    def __init__(self, n, res=64, njoints=4):
        self.n, self.res, self.njoints = n, res, njoints

    def __len__(self): return self.n

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        out = self.res // 4
        xy = torch.rand(self.njoints, 2, generator=g) * (out - 1)
        r = torch.arange(out).float()
        hm = torch.exp(-((r[None, None, :] - xy[:, None, 0:1]) ** 2 + (r[None, :, None] - xy[:, None, 1:2]) ** 2) / 2)
        image = torch.randn(3, self.res, self.res, generator=g)
        image = image + torch.rand(1, 1, 1)     # a random brightness shift: uses the global generator, as augmentation does
        return {'image': image, 'heatmaps': hm, 'visible': torch.ones(self.njoints), 'weight': torch.ones(self.njoints)}


def main(argv):
    out, epochs, batch = Path(argv[0]), int(argv[1]), int(argv[2])
    kill = (int(argv[argv.index('--kill-at') + 1]), int(argv[argv.index('--kill-at') + 2])) if '--kill-at' in argv else None
    torch.set_num_threads(1)
    seed_everything(0)
    model = StackedHourglass(1, 16, 4)
    train = make_loader(Blobs(32), batch, shuffle=True, seed=0)   # under torchrun: sharded by rank
    valid = make_loader(Blobs(8), 8, shuffle=False, drop_last=False)
    opt = torch.optim.RMSprop(model.parameters(), lr=2.5e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def on_batch(epoch, i):
        if kill and (epoch, i) == kill: os.kill(os.getpid(), signal.SIGKILL)

    fit(model, train, valid, HeatmapTask(), epochs, opt, sched, ckpt=out / 'ckpt.pt', history_csv=out / 'history.csv',
        resume='--no-resume' not in argv, progress=False, on_batch=on_batch)
    torch.save(model.state_dict(), out / f'final-rank{dist_info()[0]}.pt')


if __name__ == '__main__':
    main(sys.argv[1:])
