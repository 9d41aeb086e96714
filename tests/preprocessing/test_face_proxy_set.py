"""The face detectors on the proxy set: CenterFace finds more faces than Haar, and at
least 90 % of those 48 px wide or more and turned up to 30 degrees."""
import numpy as np
import pytest

from dadf_mm.preprocessing.face_detector import build_face_detector
from dadf_mm.preprocessing.face_proxy_set import (
    DEGRADATIONS,
    _place,
    box_overlap,
    build_proxy_set,
    face_photos,
    measure_detector,
    summarize,
)


@pytest.fixture(scope='module')
def proxy_set():
    return build_proxy_set()


@pytest.fixture(scope='module')
def results(proxy_set):
    return {name: measure_detector(build_face_detector(name), proxy_set)
            for name in ('centerface', 'haar')}


def test_box_overlap_hand_computed():
    assert box_overlap((0, 0, 10, 10), (5, 0, 15, 10)) == 50 / 150
    assert box_overlap((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0


def test_a_face_placed_unchanged_is_the_photo_itself():
    photo, box = face_photos()[0]
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    frame, placed = _place(photo, box, int(box[2] - box[0]), 0.0, photo.shape[1::-1], centre)
    assert placed == box
    assert np.abs(frame.astype(int) - photo).max() <= 1


def test_the_set_spans_the_conditions(proxy_set):
    assert len(face_photos()) == 2  # scikit-image's astronaut, matplotlib's Grace Hopper
    clean = [f for f in proxy_set if f.condition == 'clean']
    assert {f.face_width for f in clean} == {24, 32, 48, 64, 96, 160, 256, 512}
    assert {f.angle for f in clean} == {0, 15, 30, 45}
    assert {f.condition for f in proxy_set} == {'clean', 'three faces', *DEGRADATIONS}
    assert all(len(f.boxes) == 3 and f.image.shape == (480, 854, 3)
               for f in proxy_set if f.condition == 'three faces')


def test_centerface_finds_more_faces_than_haar(results):
    centerface, haar = (summarize(results[n]) for n in ('centerface', 'haar'))
    assert centerface['recall'] > haar['recall']
    # measured: 0.97 against 0.41; Haar finds no face turned 30 degrees or more
    assert centerface['recall'] >= 0.9 and haar['recall'] < 0.6
    turned = [r for r in results['haar'] if r.condition == 'clean' and r.angle >= 30]
    assert summarize(turned)['recall'] == 0.0


def test_centerface_finds_90_percent_of_faces_48_px_and_turned_up_to_30(results):
    band = [r for r in results['centerface'] if r.face_width >= 48 and r.angle <= 30]
    summary = summarize(band)
    assert summary['faces'] >= 100
    assert summary['recall'] >= 0.9 and summary['iou'] > 0.7
