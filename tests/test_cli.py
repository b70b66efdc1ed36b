"""The `hgae study` command end to end, on the `test` profile: what it writes, what it skips, how it fails."""
import json
import shutil

import nbformat

from conftest import ROOT, hgae
from hgae.study import STEPS


def test_study_writes_manifest_and_executed_notebooks(study_run):
    run_dir, r = study_run
    m = json.loads((run_dir / 'manifest.json').read_text())
    assert m['profile'] == 'test' and m['status'] == 'ok' and m['finished']
    assert m['config']['model']['nfeat'] == 32                     # the test profile's size, recorded
    assert set(m['git']) == {'commit', 'dirty'} and m['packages']['torch'] and m['host']['cpu_count']
    for s in STEPS:
        nb = nbformat.read(run_dir / 'notebooks' / s.notebook, as_version=4)
        assert any(c.get('outputs') for c in nb.cells if c.cell_type == 'code'), f'{s.notebook} has no outputs'
        assert all((run_dir / o).exists() for o in s.outputs)
        assert m['steps'][s.name]['status'] == 'ok'
        assert f'{s.name}: done in' in r.stderr                      # the progress lines name each step


def test_second_run_skips_up_to_date_steps(study_run):
    run_dir, _ = study_run
    before = json.loads((run_dir / 'study.json').read_text())
    r = hgae('study', '--profile', 'test', '--run-dir', run_dir)
    assert all(f'{s.name}: up to date, skipped' in r.stderr for s in STEPS)
    assert json.loads((run_dir / 'study.json').read_text()) == before


def test_failing_notebook_stops_the_run_and_names_it(tmp_path, study_run):
    nbs = tmp_path / 'nbs'
    shutil.copytree(ROOT / 'nbs', nbs, symlinks=True)
    target = STEPS[0].notebook
    nb = nbformat.read(nbs / target, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', [])) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell("raise RuntimeError('made to fail')"))
    nbformat.write(nb, nbs / target)
    run_dir = tmp_path / 'run'
    r = hgae('study', '--profile', 'test', '--run-dir', run_dir, '--nbs', nbs, check=False)
    assert r.returncode == 1
    assert f'{target} failed at cell {at + 1}' in r.stderr and 'RuntimeError: made to fail' in r.stderr
    assert str(run_dir / 'notebooks' / target) in r.stderr          # where the traceback is
    m = json.loads((run_dir / 'manifest.json').read_text())
    assert (m['status'], m['failed_step']) == ('failed', STEPS[0].name)
    assert (run_dir / 'notebooks' / target).exists()                # kept, with the traceback


def test_bad_names_list_the_valid_ones(tmp_path):
    r = hgae('study', '--profile', 'laptop', check=False)
    assert r.returncode == 2 and 'valid: test, cpu, gpu' in r.stderr
    r = hgae('study', '--profile', 'test', '--run-dir', tmp_path, '--set', 'ae.epoch=3', check=False)
    assert r.returncode == 1 and "unknown parameter 'ae.epoch'" in r.stderr and 'ae.epochs' in r.stderr
    r = hgae('study', '--profile', 'test', '--run-dir', tmp_path, '--only', 'fit', check=False)
    assert r.returncode == 1 and f"valid: {', '.join(s.name for s in STEPS)}" in r.stderr


def test_predict_draws_the_skeleton(study_run, tmp_path):
    from PIL import Image
    run_dir, _ = study_run
    image = sorted((run_dir / 'data' / 'images').glob('*.jpg'))[0]
    out = tmp_path / 'overlay.png'
    r = hgae('predict', image, '--checkpoint', run_dir / 'baseline' / 'model.pt', '--out', out)
    assert Image.open(out).size == Image.open(image).size
    rows = [l.split() for l in r.stdout.splitlines()]
    assert [row[0] for row in rows][:2] == ['r_ankle', 'r_knee'] and len(rows) == 16


def test_predict_refuses_a_checkpoint_that_carries_code(tmp_path):
    import torch

    class Payload:
        def __reduce__(self): return (print, ('pwned',))
    bad = tmp_path / 'bad.pt'
    torch.save({'format': 'hgae-checkpoint-1', 'model': Payload()}, bad)
    r = hgae('predict', bad, '--checkpoint', bad, check=False)
    assert r.returncode == 1 and 'refused to load' in r.stderr and 'pwned' not in r.stdout


def test_data_synth_then_info(tmp_path):
    hgae('data', 'synth', '--out', tmp_path / 'd', '--train', 20, '--valid', 5, '--size', 96)
    r = hgae('data', 'info', tmp_path / 'd')
    assert 'annot/train.h5: 20 people' in r.stdout and 'annot/valid.h5: 5 people' in r.stdout
    r = hgae('data', 'info', tmp_path / 'nowhere', check=False)
    assert r.returncode == 1 and 'nowhere' in r.stderr
