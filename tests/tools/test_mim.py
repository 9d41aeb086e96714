"""mim (OpenMMLab's package manager) on the installed package: the wheel carries mmseg's
``.mim`` layout (configs, tools, model-index.yml), so ``mim search dadf_mm`` lists the
models and ``mim train`` / ``mim test dadf_mm`` run the demo config from the package, away
from any checkout. Before, mim found no ``model-index.yml`` in the package and stopped."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers.tool_runs import FAST_DATA, ROOT

MIM = osp.join(osp.dirname(sys.executable), 'mim')
DEMO_NAME = 'dadf_sam-tiny_synthetic-demo'
SMALL_RUN = [*FAST_DATA, 'train_cfg.max_iters=2', 'train_dataloader.batch_size=2',
             'train_dataloader.dataset.num_samples=16', 'val_dataloader.batch_size=2',
             'val_dataloader.dataset.num_samples=4', 'default_hooks.visualization.draw=False']
SMALL_TEST = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              'test_dataloader.dataset.num_samples=4', 'test_dataloader.batch_size=2']


def run(args, cwd, site) -> subprocess.CompletedProcess:
    """``args`` in ``cwd`` with the unpacked wheel ``site`` first on the import path (where
    mim, like Python, finds the package before any other install)."""
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1')
    return subprocess.run(args, cwd=str(cwd), env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The package built as a wheel (``pip wheel --no-deps``) from a copy of the sources
    and unpacked into a folder of its own: (the wheel's file names, that folder)."""
    root = tmp_path_factory.mktemp('mim')
    source = root / 'src'
    source.mkdir()
    skip = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim')
    for part in ('dadf_mm', 'configs', 'tools'):
        shutil.copytree(osp.join(ROOT, part), source / part, ignore=skip)
    for part in ('setup.py', 'pyproject.toml', 'model-index.yml', 'README.md', 'LICENSE'):
        shutil.copy2(osp.join(ROOT, part), source / part)
    build = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                            '--no-build-isolation', '-w', str(root / 'wheel'), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next((root / 'wheel').glob('dadf_mm-*.whl'))
    site = root / 'site'
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    return names, site


def test_the_wheel_carries_the_mim_layout(installed):
    names, _ = installed
    for name in ('dadf_mm/.mim/model-index.yml', 'dadf_mm/.mim/tools/train.py',
                 'dadf_mm/.mim/tools/test.py', 'dadf_mm/.mim/tools/tool_setup.py',
                 'dadf_mm/.mim/configs/dadf/metafile.yaml',
                 f'dadf_mm/.mim/configs/dadf/{DEMO_NAME}.py',
                 'dadf_mm/.mim/configs/_base_/dadf_runtime.py'):
        assert name in names, name


def test_model_index_reads_the_installed_package(installed, tmp_path):
    _, site = installed
    proc = run([sys.executable, '-c', 'from dadf_mm.apis.model_index import find_model; '
                f'print(find_model({DEMO_NAME!r}))'], tmp_path, site)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == str(site / 'dadf_mm' / '.mim' / 'configs' / 'dadf' /
                                      f'{DEMO_NAME}.py')


def test_mim_search_lists_the_demo(installed, tmp_path):
    _, site = installed
    proc = run([MIM, 'search', 'dadf_mm'], tmp_path, site)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'config id: {DEMO_NAME}' in proc.stdout
    assert 'config id: dadf_vit-h_ffpp-hq' in proc.stdout


def test_mim_train_and_test_run_the_demo_from_the_package(installed, tmp_path):
    """The config path names no file here: mim finds it in the package's .mim/configs and
    runs the package's .mim/tools/train.py and test.py."""
    _, site = installed
    work = tmp_path / 'work'
    proc = run([MIM, 'train', 'dadf_mm', f'configs/dadf/{DEMO_NAME}.py', '--work-dir',
                str(work), '--cfg-options', *SMALL_RUN], tmp_path, site)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    assert f"{site / 'dadf_mm' / '.mim' / 'configs'}" in proc.stdout  # mim said where
    assert (work / 'iter_2.pth').is_file()
    proc = run([MIM, 'test', 'dadf_mm', f'{DEMO_NAME}.py', '--checkpoint',
                str(work / 'iter_2.pth'), '--work-dir', str(tmp_path / 'test'),
                '--cfg-options', *SMALL_TEST], tmp_path, site)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    assert 'Testing finished successfully' in proc.stdout
    assert 'PBCA' in proc.stdout
