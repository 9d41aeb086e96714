"""The tools print no deprecation warnings of mmengine (``pkg_resources``) or mmseg
(``build_loss``). Was: every command that builds a model printed both."""
import os
import subprocess
import sys

import pytest

from tests.helpers.tool_runs import DEMO, ROOT

NOISE = ('pkg_resources', 'build_loss')


def _stderr(args) -> str:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}  # Python's default
    env['PYTHONPATH'] = ROOT
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def _noise(stderr: str) -> list:
    return [line for line in stderr.splitlines()
            if 'Warning' in line and any(word in line for word in NOISE)]


@pytest.mark.parametrize('tool', ['tools/infer.py', 'tools/test.py'])
def test_help_prints_no_dependency_deprecations(tool):
    assert _noise(_stderr([tool, '--help'])) == []


def test_building_a_model_prints_no_dependency_deprecations(demo_checkpoint):
    """Building the model is where mmengine imports pkg_resources and mmseg's decode head
    calls build_loss."""
    stderr = _stderr(['-c', 'from dadf_mm.apis.inference import ForgeryInferencer; '
                      f'ForgeryInferencer({DEMO!r}, {demo_checkpoint!r}, device="cpu")'])
    assert _noise(stderr) == []


def test_other_warnings_still_show():
    stderr = _stderr(['-c', 'import warnings, dadf_mm; '
                      'warnings.warn("pkg_resources of mine", UserWarning)'])
    assert 'UserWarning: pkg_resources of mine' in stderr
