"""Fixtures shared by the whole suite: a random-weight SAM saved as a user's checkpoint."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
# the modules the programs in tools/ share (tool_setup, web_page ...), imported as the
# programs import them; last, so that tools/test.py does not hide Python's own ``test``
TOOLS = os.path.join(ROOT, 'tools')
if TOOLS not in sys.path:
    sys.path.append(TOOLS)

import pytest  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

import dadf_mm  # noqa: E402,F401

register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def mmseg_default_scope():
    """Each test starts in mmseg's scope (an mmengine Runner built by another test leaves its
    own scope current)."""
    register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True, scope='session')
def private_cache_dir_and_exact_cpu_path(tmp_path_factory):
    """The suite's own ``DADF_MM_CACHE_DIR`` (the CPU path's verdicts ...), so that no test
    reads or writes the user's cache; and the exact CPU path (``DADF_MM_CPU_PATH=exact``,
    subprocesses included), so that outputs do not depend on the CPU's bfloat16 support
    (tests/apis/test_cpu_path.py chooses for itself)."""
    values = dict(DADF_MM_CACHE_DIR=str(tmp_path_factory.mktemp('dadf_mm_cache')),
                  DADF_MM_CPU_PATH='exact')
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
