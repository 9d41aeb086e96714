"""The programs in tools/ import their shared modules (tool_setup, cfg_options,
preflight_checks, web_page ...) from their own folder, so a copy of tools/ runs anywhere,
as mmseg's tools and ``mim`` run it; the library (dadf_mm) reads no command line."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONVERTERS = tuple(f'dataset_converters/{path.name}' for path in
                   sorted((ROOT / 'tools' / 'dataset_converters').glob('*.py'))
                   if not path.name.startswith('converter_'))  # not programs: their imports
PROGRAMS = ('train.py', 'test.py', 'infer.py', 'web_demo.py', 'download_sam_checkpoints.py',
            *CONVERTERS)


@pytest.fixture(scope='module')
def tools_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp('elsewhere') / 'tools'
    shutil.copytree(ROOT / 'tools', copy, ignore=shutil.ignore_patterns('__pycache__'))
    return copy


@pytest.mark.parametrize('program', PROGRAMS)
def test_a_copy_of_tools_runs_from_another_folder(tools_copy, program):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, str(tools_copy / program), '--help'],
                          cwd=tools_copy.parent, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('usage:'), proc.stdout[:500]


def test_the_library_reads_no_command_line():
    """Was: dadf_mm/apis/config_checks.py held an argparse action for --cfg-options."""
    readers = [str(path.relative_to(ROOT)) for path in sorted((ROOT / 'dadf_mm').rglob('*.py'))
               if any(word in path.read_text(encoding='utf-8')
                      for word in ('argparse.Action', 'add_argument(', 'sys.argv'))]
    assert readers == [], f'command-line code belongs in tools/: {readers}'
