"""No Python file of the library (dadf_mm/) or the tools (tools/) is over 400 lines: a
longer file holds more than one concept and is split by concept."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def long_files(root: Path, *folders: str, limit: int = MAX_LINES) -> dict:
    """Path (relative to ``root``) -> line count of each ``.py`` file over ``limit``."""
    found = {}
    for folder in folders:
        for path in sorted((root / folder).rglob('*.py')):
            lines = len(path.read_text(encoding='utf-8').splitlines())
            if lines > limit:
                found[str(path.relative_to(root))] = lines
    return found


def test_no_file_over_400_lines():
    found = long_files(ROOT, 'dadf_mm', 'tools')
    assert not found, f'split these by concept (at most {MAX_LINES} lines each): {found}'


@pytest.mark.parametrize('lines, too_long', [(400, False), (401, True)])
def test_the_count_is_of_lines(tmp_path, lines, too_long):
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'module.py').write_text('x = 1\n' * lines)
    (tmp_path / 'notes.txt').write_text('x\n' * 1000)  # only Python files count
    assert long_files(tmp_path, 'pkg') == ({'pkg/module.py': lines} if too_long else {})
