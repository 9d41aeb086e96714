import cv2
import numpy as np
import pytest
from skimage import data

from dadf_mm.datasets.transforms import SelfBlendForgery, self_blend

FACE = np.ascontiguousarray(data.astronaut()[40:200, 150:310][..., ::-1])  # 160 x 160 BGR


def test_outside_the_soft_mask_is_untouched_and_blend_is_exact():
    made = self_blend(FACE, np.random.default_rng(3))
    soft, src = made.soft_mask, FACE.astype(np.float64)
    outside = soft == 0
    assert 0.2 < outside.mean() < 0.95  # a real region, not everything nor nothing
    np.testing.assert_array_equal(made.image[outside], FACE[outside])
    weight = soft.astype(np.float64)[..., None]  # the blend in float64, rounded once
    expected = np.round(weight * made.blended + (1 - weight) * src)
    np.testing.assert_array_equal(made.image, np.clip(expected, 0, 255).astype(np.uint8))


def test_binary_mask_is_the_thresholded_blend():
    for seed in range(5):
        made = self_blend(FACE, np.random.default_rng(seed), mask_threshold=0.25)
        np.testing.assert_array_equal(made.mask, (made.soft_mask > 0.25).astype(np.uint8))
        forged = made.mask == 1
        assert forged.mean() > 0.05
        changed = (made.image != FACE).any(axis=2)
        assert changed[forged].mean() > 0.9  # what the mask marks was really altered
        assert not changed[made.soft_mask == 0].any()


def test_same_seed_same_forgery_other_seed_other():
    a = self_blend(FACE, np.random.default_rng(7))
    b = self_blend(FACE, np.random.default_rng(7))
    c = self_blend(FACE, np.random.default_rng(8))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.mask, c.mask)


def test_grey_image_stays_grey():
    grey = np.repeat(FACE.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    made = self_blend(grey, np.random.default_rng(1))
    assert (made.image == made.image[..., :1]).all()


def results_of(label, mask=None):
    return dict(img=FACE.copy(), gt_label=label, method='original', video_id='x', has_mask=True,
                gt_seg_map=np.zeros(FACE.shape[:2], np.uint8) if mask is None else mask,
                seg_fields=['gt_seg_map'])


def test_transform_turns_real_into_fake():
    out = SelfBlendForgery(prob=1.0, seed=0)(results_of(0))
    assert out['gt_label'] == 1 and out['method'] == 'synthetic' and out['has_mask'] is True
    assert out['gt_seg_map'].sum() > 0 and set(np.unique(out['gt_seg_map'])) == {0, 1}
    changed = (out['img'] != FACE).any(axis=2)
    assert changed[out['gt_seg_map'] == 1].mean() > 0.9
    again = SelfBlendForgery(prob=1.0, seed=0)(results_of(0))
    np.testing.assert_array_equal(out['img'], again['img'])


def test_transform_leaves_fakes_and_respects_prob():
    fake_mask = np.ones(FACE.shape[:2], np.uint8)
    out = SelfBlendForgery(prob=1.0, seed=0)(results_of(1, fake_mask))
    assert out['method'] == 'original' and (out['img'] == FACE).all()
    assert out['gt_seg_map'] is fake_mask
    out = SelfBlendForgery(prob=0.0, seed=0)(results_of(0))
    assert out['gt_label'] == 0 and (out['img'] == FACE).all()
    transform = SelfBlendForgery(prob=0.5, seed=1)
    made = sum(transform(results_of(0))['gt_label'] for _ in range(200))
    assert 70 < made < 130
    with pytest.raises(ValueError, match='prob'):
        SelfBlendForgery(prob=1.5)


def test_offset_range_sets_the_strength_of_the_forgery():
    from dadf_mm.datasets.transforms.self_blend import self_blend as blend
    img = np.full((64, 64, 3), 128, np.uint8)
    checked = 0
    for seed in range(8):
        weak = blend(img, np.random.default_rng(seed))
        strong = blend(img, np.random.default_rng(seed), offset_range=(50.0, 50.0))
        assert np.array_equal(weak.mask, strong.mask)  # same region, other colour change
        core = strong.soft_mask >= 0.99
        if core.any():
            # a flat grey image: the offset is exactly +-50 (gain 0.9-1.1 moves 128 by <= 13)
            delta = np.abs(strong.image[core].astype(int) - 128)
            assert delta.min() >= 50 - 13 and delta.max() <= 50 + 13
            checked += 1
    assert checked >= 2


def _high_frequency(image):
    """Mean absolute Laplacian: the fine detail and noise of an image."""
    return float(np.abs(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F)).mean())


def _noisy_face(seed=0, size=96):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    base = 120 + 60 * np.sin(xx / 9) * np.cos(yy / 13)
    noisy = base + rng.normal(0, 3, base.shape)
    return np.repeat(np.clip(np.round(noisy), 0, 255).astype(np.uint8)[..., None], 3, 2)


def test_traces_change_the_noise_of_the_blended_copy():
    """Resampling smooths the noise away, extra noise adds to it, a JPEG round trip at a low
    quality leaves 8 x 8 block edges; none of them moves the mean brightness much."""
    from dadf_mm.datasets.transforms.self_blend import add_trace
    image = _noisy_face()
    before = _high_frequency(image)
    resampled = add_trace(image, np.random.default_rng(0), 'resample')
    noisier = add_trace(image, np.random.default_rng(0), 'noise')
    jpeg = add_trace(image, np.random.default_rng(0), 'recompress')
    assert _high_frequency(resampled) < 0.5 * before
    assert _high_frequency(noisier) > 1.5 * before
    # block edges: the jump across a block boundary exceeds the jump inside a block
    grey = jpeg[..., 0].astype(np.float32)
    cols = np.abs(np.diff(grey, axis=1)).mean(0)
    at_edges, inside = cols[7::8].mean(), np.delete(cols, np.s_[7::8]).mean()
    assert at_edges > 1.2 * inside
    for out in (resampled, noisier, jpeg):
        assert out.shape == image.shape and out.dtype == np.uint8
        assert abs(float(out.mean()) - float(image.mean())) < 2.0
    with pytest.raises(ValueError, match='trace must be one of'):
        add_trace(image, np.random.default_rng(0), 'blur')


def test_a_trace_changes_the_blended_copy_not_the_region():
    """The trace is drawn after the region, the colour change and the geometry, so the same
    seed gives the same mask with and without it, and another image inside it."""
    image = _noisy_face(1)
    plain = self_blend(image, np.random.default_rng(5))
    traced = self_blend(image, np.random.default_rng(5), trace='resample')
    np.testing.assert_array_equal(traced.mask, plain.mask)  # same region, other copy
    assert not np.array_equal(traced.image, plain.image)
