"""The website of a `test`-profile study run, built and checked in headless Chromium."""
import os
from pathlib import Path

import pytest

from conftest import ROOT, hgae
import site_check
from hgae.study import STEPS

needs_browser = pytest.mark.skipif(not site_check.chromium_available() and os.environ.get('CI') != 'true',
                                   reason='needs Debian chromium (apt-get install chromium); skipped outside CI only')


@pytest.fixture(scope='module')
def site(study_run, tmp_path_factory):
    run_dir, _ = study_run
    out = tmp_path_factory.mktemp('site') / '_docs'
    hgae('docs', '--run-dir', run_dir, '--out', out)
    return out


def test_site_has_a_page_per_notebook(site):
    pages = {p.stem for p in site.glob('*.html')}
    assert {p.stem for p in (ROOT / 'nbs').glob('[!_]*.ipynb')} <= pages


def test_study_pages_show_the_runs_executed_notebooks(site, study_run):
    run_dir, _ = study_run
    for s in STEPS:
        html = (site / s.notebook.replace('.ipynb', '.html')).read_text()
        assert str(run_dir) in html, f'{s.notebook}: the page does not show the parameters the run injected'


@needs_browser
def test_site_passes_the_browser_check(site):
    problems = site_check.check_site(site)
    assert problems == [], '\n'.join(problems)
