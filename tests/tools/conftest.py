"""A short demo training run that several tool tests share (one subprocess, ~20 s)."""
from types import SimpleNamespace

import pytest

from tests.helpers.tool_runs import kill_config, train_short_run


@pytest.fixture(scope='session')
def short_demo_run(tmp_path_factory) -> SimpleNamespace:
    """tools/train.py on the demo config for 5 iterations (:data:`SHORT_RUN`), its kill
    points counted: ``work_dir`` (iter_5.pth, best_PBCA_*.pth), ``events`` (the kinds of
    tests/helpers/kill_points.py in order), ``output`` (stdout and stderr)."""
    root = tmp_path_factory.mktemp('short_demo')
    events = root / 'events'
    proc = train_short_run(kill_config(root), root / 'work', env=dict(DADF_KILL_LOG=str(events)))
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return SimpleNamespace(work_dir=root / 'work', events=events.read_text().split(),
                           output=proc.stdout + proc.stderr, config=kill_config(root))
