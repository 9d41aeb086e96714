import sys

import numpy as np
import pytest
from skimage import data

from dadf_mm.preprocessing.conversion_checks import check_detector_or_exit
from dadf_mm.preprocessing.conversion_errors import ConverterError
from dadf_mm.preprocessing.face_detector import FaceDetection, HaarFaceDetector, build_face_detector

ASTRONAUT_FACE_CENTRE = (224, 115)  # x, y of Eileen Collins' face in skimage's astronaut


def test_haar_finds_the_astronaut_face():
    frame = np.ascontiguousarray(data.astronaut()[..., ::-1])
    faces = HaarFaceDetector()(frame)
    assert len(faces) == 1
    (cx, cy), face = faces[0].center, faces[0]
    assert abs(cx - ASTRONAUT_FACE_CENTRE[0]) < 15 and abs(cy - ASTRONAUT_FACE_CENTRE[1]) < 15
    assert 60 < face.width < 130 and face.score > 0


def test_haar_downscales_large_frames_and_maps_boxes_back():
    frame = np.ascontiguousarray(data.astronaut()[..., ::-1])
    big = np.kron(frame, np.ones((2, 2, 1), np.uint8))  # 1024 x 1024
    faces = HaarFaceDetector(max_side=512)(big)
    assert len(faces) == 1
    cx, cy = faces[0].center
    assert abs(cx - 2 * ASTRONAUT_FACE_CENTRE[0]) < 30
    assert abs(cy - 2 * ASTRONAUT_FACE_CENTRE[1]) < 30


def test_no_face_in_a_flat_frame():
    assert HaarFaceDetector()(np.full((200, 200, 3), 128, np.uint8)) == []


def test_detector_by_import_path(tmp_path, monkeypatch):
    (tmp_path / 'my_faces.py').write_text(
        'def make_detector():\n'
        '    return lambda frame: [(1, 2, 11, 22, 0.9), (0, 0, 5, 5)]\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    detector = build_face_detector('my_faces:make_detector')
    assert detector(np.zeros((4, 4, 3), np.uint8)) == [
        FaceDetection(1, 2, 11, 22, 0.9), FaceDetection(0, 0, 5, 5, 1.0)]
    sys.modules.pop('my_faces', None)
    with pytest.raises(ValueError, match='package.module:factory'):
        build_face_detector('no_colon_here')
    with pytest.raises(ValueError, match='cannot import.*nowhere_module'):
        build_face_detector('nowhere_module:make')


def test_converter_checks_a_plugged_in_factory_without_calling_it(tmp_path, monkeypatch):
    (tmp_path / 'gpu_faces.py').write_text(
        'CALLS = []\n'
        'def make():\n'
        '    CALLS.append(1)\n'
        '    return lambda frame: []\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    check_detector_or_exit('gpu_faces:make')  # in the parent: import only (CUDA stays unused)
    assert sys.modules['gpu_faces'].CALLS == []
    sys.modules.pop('gpu_faces')
    with pytest.raises(ConverterError, match="--detector: cannot import"):
        check_detector_or_exit('gpu_faces_missing:make')
