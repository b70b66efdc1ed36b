"""Tests of hgae.data on MPII's real annotation files (no images).

The files live outside the project, in `<repo>/../shared/data/mpii_annot/` (`valid.h5`,
`mpii_annotations.json.gz`); the environment variable HGAE_MPII_ANNOT points elsewhere. They are
never copied into the project. Where the folder is absent the tests are skipped, saying so.
"""

import os
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from hgae.data import (DataError, data_info, read_annot, read_h5, read_mpii_json, torsoangle, transform_matrix,
                       transform_points, to_image_coords, write_h5)

REPO = Path(__file__).resolve().parents[1]
ANNOT = Path(os.environ.get('HGAE_MPII_ANNOT') or REPO.parent/'shared'/'data'/'mpii_annot')
VALID, JSON = ANNOT/'valid.h5', ANNOT/'mpii_annotations.json.gz'
needs_valid = pytest.mark.skipif(not VALID.is_file(), reason=f"MPII annotations not found: {VALID} is absent "
                                 f"(set HGAE_MPII_ANNOT to the folder holding valid.h5 and mpii_annotations.json.gz)")
needs_json = pytest.mark.skipif(not JSON.is_file(), reason=f"MPII annotations not found: {JSON} is absent "
                                f"(set HGAE_MPII_ANNOT to the folder holding valid.h5 and mpii_annotations.json.gz)")


@pytest.fixture(scope='module')
def valid():
    return read_h5(VALID)


@pytest.fixture(scope='module')
def json_all():
    return read_mpii_json(JSON)


@needs_valid
def test_valid_h5(valid):
    assert len(valid['scale']) == 2958
    assert len(set(valid['imgname'])) == 2729
    assert valid['part'].shape == (2958, 16, 2)
    np.testing.assert_allclose(valid['normalize'] / valid['scale'], 20, rtol=1e-12)
    np.testing.assert_allclose(torsoangle(valid['part']), valid['torsoangle'], atol=1e-9)   # our torsoangle is Newell's


@needs_valid
def test_valid_h5_roundtrip(valid, tmp_path):
    p = write_h5(tmp_path/'valid.h5', valid)
    b = read_h5(p)
    for k in valid:
        if k == 'imgname': assert list(b[k]) == list(valid[k])
        else: np.testing.assert_array_equal(b[k], valid[k])
    with h5py.File(VALID) as f, h5py.File(p) as g:
        assert set(f.keys()) == set(g.keys())
        assert f['imgname'].dtype == g['imgname'].dtype


@needs_json
def test_json_counts(json_all):
    assert len(json_all['scale']) == 25204
    assert len(read_mpii_json(JSON, 'train')['scale']) == 22246
    assert len(read_mpii_json(JSON, 'valid')['scale']) == 2958


@needs_valid
@needs_json
def test_json_valid_equals_valid_h5(valid):
    j = read_mpii_json(JSON, 'valid')
    assert list(j['imgname']) == list(valid['imgname'])
    for k in ('index', 'person', 'visible'):
        np.testing.assert_array_equal(j[k], valid[k])
    # every joint except upper neck and head top: equal (to 1e-6)
    body = [i for i in range(16) if i not in (8, 9)]
    np.testing.assert_allclose(j['part'][:, body], valid['part'][:, body], atol=1e-6)
    # the JSON has sub-pixel upper-neck / head-top joints where valid.h5 has whole pixels
    assert np.abs(j['part'][:, 8:10] - valid['part'][:, 8:10]).max() <= 1.0
    # the JSON rounds scale_provided to 3 decimals: scale within 1.25 * 5e-4, center_y within 15 * 5e-4
    np.testing.assert_allclose(j['scale'], valid['scale'], atol=1.25 * 5e-4 + 1e-9)
    np.testing.assert_allclose(j['normalize'], valid['normalize'], atol=25 * 5e-4 + 1e-9)
    np.testing.assert_allclose(j['center'][:, 0], valid['center'][:, 0], atol=1e-6)
    np.testing.assert_allclose(j['center'][:, 1], valid['center'][:, 1], atol=15 * 5e-4 + 1e-9)
    # where the neck/head joints match, so does torsoangle (it uses pelvis and thorax only)
    np.testing.assert_allclose(j['torsoangle'], valid['torsoangle'], atol=1e-6)


@needs_valid
def test_data_info_real():
    info = data_info(VALID)
    assert 'valid.h5: 2958 people in 2729 images' in info
    assert 'visible joints' in info and 'scale: 0.726 .. 15.556' in info


@needs_json
def test_data_info_json():
    info = data_info(JSON)
    assert '[train]: 22246 people' in info and '[valid]: 2958 people' in info


@needs_valid
def test_real_roundtrip_transform(valid):
    """Every annotated joint of MPII, mapped into a random crop (heatmap) and back, lands within 0.5 px."""
    rng = np.random.default_rng(0)
    n = len(valid['scale'])
    s = valid['scale'] * rng.uniform(.75, 1.25, n)
    r = np.where(rng.random(n) < .4, rng.uniform(-30, 30, n), 0.)
    f = rng.random(n) < .5
    for res in (32, 64):
        hm = transform_points(valid['part'], transform_matrix(valid['center'], s, res, r, f))
        back = to_image_coords(hm, valid['center'], s, res, r, f)
        assert np.abs(back - valid['part']).max() < 0.5


@needs_valid
def test_bad_real_rows(valid, tmp_path):
    bad = {k: v.copy() for k, v in valid.items()}
    bad['scale'][17] = np.nan
    bad['scale'][30] = 0.
    with h5py.File(tmp_path/'bad.h5', 'w') as f:
        for k, v in bad.items():
            f[k] = np.array([x.encode() for x in v]) if k == 'imgname' else v
    with pytest.raises(DataError, match=r"bad\.h5: row 17, field 'scale' is not a positive number"):
        read_h5(tmp_path/'bad.h5')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        a = read_annot(tmp_path/'bad.h5', skip_bad=True)
    assert len(a['scale']) == 2956 and len(w) == 1 and 'skipped 2 bad rows of 2958' in str(w[0].message)
