"""The code follows the lint configuration in pyproject.toml (pycodestyle, pyflakes, import
order; 100 columns), checked with the ruff that tools/setup_env.sh installs."""
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', ROOT],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert 'No module named ruff' not in proc.stderr, (
        'ruff is missing: run bash tools/setup_env.sh, which installs it')
    assert proc.returncode == 0, proc.stdout + proc.stderr
