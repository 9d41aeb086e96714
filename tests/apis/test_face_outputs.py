"""The inferencer's outputs at the input's size, under one name for the face box, and
video curves with frame numbers. Was: ``predict_image(..., detect_faces=True)`` returned
the crop's 120x120 mask with the box as ``.box`` (``face_box`` in the dicts), and
``predict_video_score(...).frame_scores`` plain floats."""
import warnings

import numpy as np
import pytest

from dadf_mm.apis import ForgeryInferencer
from dadf_mm.apis.inferencer_results import ForgeryPrediction
from dadf_mm.preprocessing import crop_square, sample_frames
from dadf_mm.preprocessing.face_detection import FaceDetection
from tests.helpers.image_files import drifting_face_video
from tests.helpers.inference_cases import DEMO, face_like


@pytest.fixture(scope='module')
def inferencer(demo_checkpoint) -> ForgeryInferencer:
    # threshold 0: every face judged fake, so its mask is the map above 0.5, not empty
    return ForgeryInferencer(DEMO, demo_checkpoint, device='cpu', threshold=0.0)


def _detector(x1, y1, x2, y2):
    return lambda image: [FaceDetection(x1, y1, x2, y2)]


@pytest.mark.parametrize('face', [(40, 30, 100, 90), (-20, 150, 40, 210)])  # 2nd: cut off
def test_a_detected_face_comes_back_at_the_images_size(inferencer, face):
    image = face_like(180, 240, seed=3)
    pred = inferencer.predict_image(image, 'photo.png', detect_faces=True,
                                    detector=_detector(*face))
    assert pred.mask.shape == pred.probability_map.shape == (180, 240)
    x1, y1, side = pred.face_box
    # the face box is square_box's of the detection: centre (70, 60) side 60 x 1.3 = 78
    assert (x1, y1, side) == ((31, 21, 78) if face[0] == 40 else (-29, 141, 78))
    [crop] = inferencer.predict([crop_square(image, pred.face_box)], ['photo.png'])
    assert crop.mask.shape == (78, 78) and crop.mask.any() and not crop.mask.all()
    for (y, x) in [(5, 7), (40, 40), (77, 77), (60, 30)]:  # crop pixels, where in picture
        if 0 <= y1 + y < 180 and 0 <= x1 + x < 240:
            assert pred.mask[y1 + y, x1 + x] == crop.mask[y, x]
            assert pred.probability_map[y1 + y, x1 + x] == crop.probability_map[y, x]
    expected = np.zeros((180, 240), np.uint8)
    ys, xs = slice(max(y1, 0), y1 + side), slice(max(x1, 0), x1 + side)
    expected[ys, xs] = crop.mask[ys.start - y1:, xs.start - x1:][:180 - ys.start]
    assert np.array_equal(pred.mask, expected)
    assert not pred.probability_map[:, x1 + side:].any()  # nothing right of the box
    assert pred.forged_area == pytest.approx(expected[ys, xs].mean())
    assert pred.as_dict()['face_box'] == [x1, y1, side]


def test_the_old_box_name_still_reads_with_a_deprecation(inferencer):
    pred = inferencer.predict_image(face_like(120, 120), 'a.png', detect_faces=True,
                                    detector=_detector(30, 30, 90, 90))
    with pytest.warns(DeprecationWarning, match=r'\.box is deprecated: use \.face_box'):
        assert pred.box == pred.face_box
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert pred.face_box is not None  # the new name warns nothing


def test_placed_in_refuses_a_map_of_another_size():
    pred = ForgeryPrediction(name='a', fake_probability=0.9, mask=np.ones((10, 10), np.uint8),
                             probability_map=np.ones((10, 10), np.float32))
    with pytest.raises(ValueError, match='a 10x10 map cannot be placed in a face box of '
                                         'side 12'):
        pred.placed_in((50, 50), (0, 0, 12))


def test_video_frame_scores_carry_the_sampled_frame_numbers(inferencer, tmp_path):
    path = str(drifting_face_video(tmp_path / 'clip.mp4', frames=9))
    video = inferencer.predict_video_score(path, num_frames=4,
                                           detector=_detector(90, 60, 150, 120))
    indices = [int(i) for i in sample_frames(path, 4).indices]
    assert len(indices) == 4 and indices != list(range(4))
    assert [point.frame for point in video.frame_scores] == indices
    assert [f for f, _ in video.frame_scores] == indices
    assert [point.fake_probability for point in video.frame_scores] == [
        p.fake_probability for p in video.frames]
    assert all(p.mask.shape == (256, 256) for p in video.frames)  # the frame's size
