"""The PCA step's contract: papermill sees every parameter, and the full-dimension projection is the identity."""
import ast

import nbformat
import numpy as np
import papermill as pm
import torch

from conftest import ROOT
from hgae.hourglass import StackedHourglass
from hgae.pca import PCAProjection, fit_pca, pck_vs_k

NB = ROOT / 'nbs' / '02_pca.ipynb'


def test_papermill_sees_every_parameter():
    nb = nbformat.read(NB, as_version=4)
    cells = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
    assert len(cells) == 1, 'exactly one parameters cell'
    names = [t.target.id for t in ast.parse(cells[0].source).body if isinstance(t, ast.AnnAssign)]
    assert list(pm.inspect_notebook(str(NB))) == names
    assert {'profile', 'run_dir', 'device', 'seed', 'overrides', 'max_samples', 'n_k', 'n_permutations'} <= set(names)


def test_full_dimension_projection_is_the_identity_inside_the_network():
    torch.manual_seed(0)
    net = StackedHourglass(2, 8, 16, depth=2).eval()
    x = torch.rand(12, 3, 64, 64)
    with torch.no_grad():
        ref, taps = net(x, return_bottleneck=True)
    pcas = [fit_pca(t.flatten(1).numpy()) for t in taps]  # 12 samples < 128 dimensions: completed basis
    for p, t in zip(pcas, taps):
        assert p.components.shape == (128, 128)
        torch.testing.assert_close(PCAProjection.from_pca(p, 128)(t), t, atol=1e-5, rtol=1e-4)
    net.set_bottleneck([PCAProjection.from_pca(p, 128) for p in pcas])
    with torch.no_grad():
        out = net(x)
    for a, b in zip(out, ref): torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_pck_vs_k_restores_the_model():
    from hgae.data import heatmaps
    torch.manual_seed(0)
    net = StackedHourglass(1, 8, 16, depth=2).eval()
    pts = np.random.default_rng(0).uniform(2, 14, (4, 16, 2))
    hm, _ = heatmaps(pts, 16, 1.)
    batch = {'image': torch.rand(4, 3, 64, 64), 'heatmaps': torch.from_numpy(hm), 'visible': torch.ones(4, 16),
             'matrix': torch.eye(3).expand(4, 3, 3).double(), 'part': torch.from_numpy(pts), 'normalize': torch.ones(4).double()}
    with torch.no_grad(): taps = net(batch['image'], return_bottleneck=True)[1]
    stem = net.stem
    table = pck_vs_k(net, [fit_pca(taps[0].flatten(1).numpy())], [batch], [1, 128])
    assert [r['k'] for r in table] == [1, 128] and {'pck_keep', 'pck_drop', 'pckh_keep', 'pckh_drop'} <= set(table[0])
    assert net.stem is stem and isinstance(net.bottlenecks()[0].bottleneck, torch.nn.Identity)
