"""tools/analysis_tools/face_detector_benchmark.py: its table and times, and its wrong
arguments in one line."""
import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / \
    'face_detector_benchmark.py'


@pytest.fixture
def tool(tmp_path, monkeypatch):
    (tmp_path / 'blind_faces.py').write_text('def make():\n    return lambda frame: []\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location('face_detector_benchmark', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_and_the_time_per_frame(tool, capsys):
    tool.main(['--detectors', 'blind_faces:make', '--repeats', '2'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == '| faces | n | blind_faces:make recall | blind_faces:make IoU |'
    assert '| all faces | 140 | 0.00 | - |' in lines
    assert '| width >= 48, turned <= 30 | 103 | 0.00 | - |' in lines
    assert lines[-1].startswith('blind_faces:make: ') and 'per 854x480 frame' in lines[-1]


@pytest.mark.parametrize('arguments, message', [
    (['--repeats', '0'], '--repeats must be at least 1, got 0'),
    (['--detectors', 'no_such_module:make'],
     "--detectors no_such_module:make: cannot import the face detector factory "
     "'no_such_module:make': No module named 'no_such_module'"),
])
def test_a_wrong_argument_is_one_line(tool, arguments, message):
    with pytest.raises(SystemExit) as stop:
        tool.run_tool(lambda: tool.main(arguments), 'face_detector_benchmark.py')
    assert stop.value.code == f'face_detector_benchmark.py: {message}'
