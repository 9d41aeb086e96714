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
def private_cache_dir(tmp_path_factory):
    """The suite's own ``DADF_MM_CACHE_DIR`` (the CPU path's verdicts ...), so that no test
    reads or writes the user's cache."""
    old = os.environ.get('DADF_MM_CACHE_DIR')
    os.environ['DADF_MM_CACHE_DIR'] = str(tmp_path_factory.mktemp('dadf_mm_cache'))
    yield
    if old is None:
        os.environ.pop('DADF_MM_CACHE_DIR', None)
    else:
        os.environ['DADF_MM_CACHE_DIR'] = old
