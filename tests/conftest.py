"""Shared fixtures: one `test`-profile study run for the whole session (the CLI and site tests read it)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def hgae(*args, cwd=ROOT, check=True, timeout=900):
    """Run the installed `hgae` console script; return the CompletedProcess (stdout and stderr as text)."""
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONUNBUFFERED': '1'}
    r = subprocess.run(['hgae', *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode:
        raise AssertionError(f"hgae {' '.join(map(str, args))} exited {r.returncode}\n--- stdout\n{r.stdout[-4000:]}\n--- stderr\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope='session')
def study_run(tmp_path_factory):
    """A complete `hgae study --profile test` run: (run directory, the command's result)."""
    run_dir = tmp_path_factory.mktemp('study') / 'run'
    return run_dir, hgae('study', '--profile', 'test', '--run-dir', run_dir)
