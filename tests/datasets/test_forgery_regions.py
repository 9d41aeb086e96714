"""Where synthetic forgeries go: each kind lands where it says, and their places vary."""
import cv2
import numpy as np
import pytest

from dadf_mm.datasets.synthetic_forgery_dataset import face_layout, make_samples
from dadf_mm.datasets.transforms import SelfBlendForgery, self_blend
from dadf_mm.datasets.transforms.forgery_regions import (
    LFW_LAYOUT,
    REGION_KINDS,
    forgery_region,
)

SIZE = 128


def centroid(region):
    ys, xs = np.nonzero(region)
    return (xs.mean() + 0.5) / region.shape[1], (ys.mean() + 0.5) / region.shape[0]


def regions(kind, layout=LFW_LAYOUT, n=40):
    return [forgery_region((SIZE, SIZE), np.random.default_rng(seed), kind, layout)
            for seed in range(n)]


@pytest.mark.parametrize('kind,part', [('mouth', 'mouth'), ('nose', 'nose')])
def test_a_face_part_is_small_and_at_its_part(kind, part):
    expected = np.array(getattr(LFW_LAYOUT, part))
    for region in regions(kind):
        assert 0.005 < region.mean() < 0.12  # a part, not the face
        assert np.abs(np.array(centroid(region)) - expected).max() < 0.05


def test_eyes_are_one_eye_or_a_band_over_both():
    eyes = np.array([LFW_LAYOUT.left_eye, LFW_LAYOUT.right_eye])
    kinds = set()
    for region in regions('eyes'):
        x, y = centroid(region)
        assert abs(y - eyes[0, 1]) < 0.05
        nearest = np.abs(eyes[:, 0] - x).min()
        between = abs(x - eyes[:, 0].mean())
        assert min(nearest, between) < 0.05
        kinds.add('one' if nearest < between else 'both')
    assert kinds == {'one', 'both'}


def test_half_is_one_side_of_the_face_and_both_sides_occur():
    sides = set()
    for region in regions('half'):
        columns = np.nonzero(region.any(0))[0]
        middle = LFW_LAYOUT.face_center[0] * SIZE
        assert columns.max() < middle + 0.05 * SIZE or columns.min() > middle - 0.05 * SIZE
        sides.add('left' if columns.max() < middle + 0.05 * SIZE else 'right')
        assert 0.1 < region.mean() < 0.35
    assert sides == {'left', 'right'}


def test_blobs_are_anywhere_and_of_varied_size():
    found = regions('blob', layout=None, n=60)
    centres = np.array([centroid(r) for r in found])
    areas = np.array([r.mean() for r in found])
    assert centres.min() < 0.25 and centres.max() > 0.75  # off centre, every side
    assert centres.std(0).min() > 0.15
    assert areas.max() > 4 * areas.min()


def test_multi_makes_several_regions():
    components = [cv2.connectedComponents(r.astype(np.uint8))[0] - 1 for r in regions('multi')]
    assert max(components) >= 3 and np.mean(np.array(components) >= 2) > 0.6


def test_without_a_layout_parts_become_blobs_and_face_is_centred():
    for kind in ('mouth', 'eyes', 'nose', 'half'):
        a = forgery_region((SIZE, SIZE), np.random.default_rng(3), kind, None)
        b = forgery_region((SIZE, SIZE), np.random.default_rng(3), 'blob', None)
        np.testing.assert_array_equal(a, b)
    for region in regions('face', layout=None, n=10):
        assert np.abs(np.array(centroid(region)) - 0.5).max() < 0.1


def test_a_flipped_view_mirrors_the_layout():
    flipped = LFW_LAYOUT.flipped()
    assert flipped.left_eye == pytest.approx((1 - LFW_LAYOUT.right_eye[0], LFW_LAYOUT.right_eye[1]))
    assert flipped.mouth == pytest.approx((1 - LFW_LAYOUT.mouth[0], LFW_LAYOUT.mouth[1]))
    assert face_layout('lfw_003', True) == flipped and face_layout('lfw_003', False) == LFW_LAYOUT
    assert face_layout('astronaut', False) is None
    a = forgery_region((SIZE, SIZE), np.random.default_rng(1), 'mouth', LFW_LAYOUT)
    b = forgery_region((SIZE, SIZE), np.random.default_rng(1), 'mouth', flipped)
    # the same draw, placed at the mirrored mouth: the same shift from it
    assert abs((centroid(a)[0] - LFW_LAYOUT.mouth[0]) - (centroid(b)[0] - flipped.mouth[0])) < 0.02


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match='region kind must be one of'):
        forgery_region((SIZE, SIZE), np.random.default_rng(0), 'ear')
    with pytest.raises(ValueError, match='SelfBlendForgery regions'):
        SelfBlendForgery(regions=('ear', ))


def test_a_small_forgery_keeps_an_exact_mask():
    """A part is feathered in proportion to its size: the mask (blend weight > 0.25) is a
    real region, every pixel it marks was altered, and nothing outside the blend was."""
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    for kind in ('eyes', 'nose', 'mouth', 'multi'):
        for seed in range(10):
            made = self_blend(image, np.random.default_rng(seed), kind=kind, layout=LFW_LAYOUT,
                              offset_range=(30.0, 60.0))
            np.testing.assert_array_equal(made.mask, (made.soft_mask > 0.25).astype(np.uint8))
            assert made.mask.sum() >= 20
            changed = (made.image != image).any(axis=2)
            assert changed[made.mask == 1].all()
            assert not changed[made.soft_mask == 0].any()


def test_the_synthetic_forgeries_vary_in_place_kind_and_size():
    """Over the demo's training fakes, a constant disc cannot cover the masks: their
    centres spread, their areas span an order of magnitude, and every kind occurs."""
    samples = make_samples('train', 400, 64, 0, (30.0, 60.0))
    masks = [m for _, _, m, label in samples if label == 1]
    centres = np.array([centroid(m) for m in masks])
    areas = np.array([m.mean() for m in masks])
    assert centres.std(0).min() > 0.08
    assert np.percentile(areas, 90) > 5 * np.percentile(areas, 10)
    rng_kinds = [str(np.random.default_rng([0, i, 1]).choice(list(REGION_KINDS)))
                 for i in range(200)]
    assert set(rng_kinds) == set(REGION_KINDS)


def test_a_partial_swap_pastes_the_donor_into_the_region():
    image = np.full((SIZE, SIZE, 3), 40, np.uint8)
    donor = np.full((SIZE, SIZE, 3), 200, np.uint8)
    made = self_blend(image, np.random.default_rng(2), kind='mouth', layout=LFW_LAYOUT,
                      donor=donor, offset_range=(8.0, 10.0), gain_range=(1.0, 1.0))
    inside = made.soft_mask > 0.99
    assert inside.any()
    # the donor's grey (200, offset by 8-10 levels) fills the region, not the image's 40
    assert np.abs(made.image[inside].astype(int) - 200).max() <= 10
    np.testing.assert_array_equal(made.image[made.soft_mask == 0], 40)
    with pytest.raises(ValueError, match='donor'):
        self_blend(image, np.random.default_rng(2), donor=donor[:64])


def test_swapped_fakes_take_their_region_from_another_face(monkeypatch):
    """With swap_prob=1 every fake of an LFW face blends in another LFW face of the split
    (framed and flipped as the view), the photographs (no layout) stay self-blended."""
    import dadf_mm.datasets.synthetic_forgery_dataset as synthetic
    from dadf_mm.datasets.synthetic_forgery_dataset import source_images
    faces = {name: cv2.resize(img, (64, 64), interpolation=cv2.INTER_CUBIC)
             for name, img in source_images('test').items() if name.startswith('lfw_')}
    calls = []

    def recording(image, rng, **kwargs):
        calls.append(kwargs.get('donor'))
        return self_blend(image, rng, **kwargs)

    monkeypatch.setattr(synthetic, 'self_blend', recording)
    samples = make_samples('test', 24, 64, 0, (30.0, 60.0), swap_prob=1.0)
    fakes = [name for name, _, _, label in samples if label == 1]
    assert len(calls) == len(fakes)
    for name, donor in zip(fakes, calls):
        if not name.startswith('lfw_'):
            assert donor is None
            continue
        # the donor is another face of the split, maybe flipped (before its resize)
        matches = [other for other, face in faces.items() if other != name and any(
            np.array_equal(donor, candidate) for candidate in
            (face, cv2.resize(np.ascontiguousarray(source_images('test')[other][:, ::-1]),
                              (64, 64), interpolation=cv2.INTER_CUBIC)))]
        assert len(matches) == 1, name
