"""The repository's contract: the README is the home page, and CI runs the README's test command."""
import re

from conftest import ROOT
from hgae.docs import readme_from_index


def readme_block(after: str) -> str:
    "The first fenced shell block of README.md after the line containing `after`."
    text = (ROOT / 'README.md').read_text()
    m = re.search(re.escape(after) + r'.*?```bash\n(.*?)\n```', text, re.S)
    assert m, f'README.md has no bash block after {after!r}'
    return m.group(1).strip()


def test_readme_is_generated_from_index():
    assert (ROOT / 'README.md').read_text() == readme_from_index(ROOT / 'nbs' / 'index.ipynb'), \
        'README.md is out of date: run `hgae readme`'


def test_ci_runs_the_readme_test_command():
    cmd = readme_block('The tests:')
    ci = (ROOT / '.ci' / 'run').read_text().splitlines()
    assert cmd in ci, f'.ci/run does not run the README test command {cmd!r} on a line of its own'
    assert 'pip install -q torch==2.13.0' in ci


def test_readme_opens_with_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    assert text.index('hgae study') < text.index('## The question')
    assert readme_block('The study, on the embedded data').endswith('hgae study && hgae docs')


def test_every_study_parameter_is_visible_to_papermill():
    """papermill silently drops a parameter line it cannot parse (an '=' in a comment, `int | None`)."""
    import ast

    import nbformat
    import papermill as pm
    from hgae.study import STEPS
    for s in STEPS:
        nb = nbformat.read(ROOT / 'nbs' / s.notebook, as_version=4)
        cell = next(c for c in nb.cells if 'parameters' in c.metadata.get('tags', []))
        names = [t.target.id if isinstance(t, ast.AnnAssign) else t.targets[0].id
                 for t in ast.parse(cell.source).body if isinstance(t, (ast.Assign, ast.AnnAssign))]
        seen = list(pm.inspect_notebook(str(ROOT / 'nbs' / s.notebook)))
        assert names == seen, f'{s.notebook}: papermill sees {seen}, the cell defines {names}'
        assert {'profile', 'run_dir', 'device', 'seed', 'overrides'} <= set(seen), s.notebook
