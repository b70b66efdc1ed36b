"""The autoencoder step's contract: papermill sees its parameters, and pretrained autoencoders round-trip into the hourglass."""
import ast

import nbformat
import numpy as np
import pytest
import torch

from conftest import ROOT

NB = ROOT / 'nbs' / '03_train_ae.ipynb'


def test_one_parameters_cell_that_papermill_reads_whole():
    import papermill as pm
    nb = nbformat.read(NB, as_version=4)
    cells = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
    assert len(cells) == 1, f'{NB.name}: {len(cells)} parameters cells'
    names = [t.target.id for t in ast.parse(cells[0].source).body if isinstance(t, ast.AnnAssign)]
    assert list(pm.inspect_notebook(str(NB))) == names
    assert {'profile', 'run_dir', 'device', 'seed', 'overrides', 'epochs', 'lr', 'batch_size', 'code',
            'code_from_pca', 'noise_std', 'momentum', 'step_epochs', 'shared', 'zoom_from'} <= set(names)


@pytest.mark.parametrize('shared', [False, True])
def test_saved_autoencoders_go_into_the_bottleneck(tmp_path, shared):
    from hgae.autoencoder import BottleneckAE, load_autoencoders, save_autoencoders
    from hgae.hourglass import StackedHourglass
    aes = [BottleneckAE((16, 4, 4), code=4) for _ in range(1 if shared else 2)]
    save_autoencoders(tmp_path / 'ae.pt', aes, nstack=2, tag='x')
    back = load_autoencoders(tmp_path / 'ae.pt')
    assert len(back) == 2 and (back[0] is back[1]) == shared
    x = torch.randn(3, 16, 4, 4)
    with torch.no_grad():
        for a, b in zip(aes * (2 if shared else 1), back): torch.testing.assert_close(a(x), b(x))
    net = StackedHourglass(2, 16, 16, depth=2).set_bottleneck(back).eval()
    with torch.no_grad(): outs = net(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 16, 16)] * 2
    assert all(np.isfinite(o.numpy()).all() for o in outs)
