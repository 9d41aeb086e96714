"""ImagePerturbation: each kind changes the image as its reference operation does, only the
image, the same way for an image in every run."""
import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import dadf_mm  # noqa: F401
from dadf_mm.datasets.transforms.perturbation import PERTURBATION_LEVELS
from tests.helpers.inference_cases import face_like


def sample(path: str = 'crops/a/0001.png') -> dict:
    img = face_like(96, 80, seed=3)
    mask = np.zeros((96, 80), np.uint8)
    mask[20:60, 10:50] = 1
    return dict(img=img, img_path=path, gt_seg_map=mask.copy(), img_shape=img.shape[:2],
                label=1)


def apply(kind: str, level: float, results: dict) -> dict:
    transform = TRANSFORMS.build(dict(type='ImagePerturbation', kind=kind, level=level))
    return transform(dict(results, img=results['img'].copy(),
                          gt_seg_map=results['gt_seg_map'].copy()))


def test_the_levels_are_the_protocols():
    """IMDL-BenCo's JPEG qualities; DeeperForensics-1.0's blur kernels, noise variances
    (as sigma = 255 sqrt(variance)) and resizing factors."""
    assert PERTURBATION_LEVELS == {'jpeg': (90, 80, 70, 60, 50), 'blur': (7, 9, 13, 17, 21),
                                   'noise': (8.1, 11.4, 18.0, 25.5, 57.0),
                                   'downscale': (2, 3, 4, 5, 6)}


@pytest.mark.parametrize('quality', [90, 50])
def test_jpeg_equals_opencvs_encoder_at_that_quality(quality):
    before = sample()
    after = apply('jpeg', quality, before)
    _, data = cv2.imencode('.jpg', before['img'], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert np.array_equal(after['img'], cv2.imdecode(data, cv2.IMREAD_COLOR))
    assert not np.array_equal(after['img'], before['img'])


@pytest.mark.parametrize('kernel', [7, 21])
def test_blur_equals_a_gaussian_of_sigma_kernel_over_6(kernel):
    before = sample()
    after = apply('blur', kernel, before)
    expected = cv2.GaussianBlur(before['img'], (kernel, kernel), sigmaX=kernel / 6,
                                sigmaY=kernel / 6)
    assert np.array_equal(after['img'], expected)
    assert not np.array_equal(after['img'], before['img'])


@pytest.mark.parametrize('sigma', [8.1, 25.5])
def test_noise_has_the_stated_sigma_and_is_seeded_by_the_path(sigma):
    flat = sample()
    flat['img'] = np.full((200, 200, 3), 128, np.uint8)  # no clipping at 128 +- 4 sigma
    flat['gt_seg_map'] = np.zeros((200, 200), np.uint8)
    after = apply('noise', sigma, flat)
    noise = after['img'].astype(float) - 128
    assert abs(noise.mean()) < 0.5
    assert noise.std() == pytest.approx(sigma, rel=0.03)
    assert np.array_equal(apply('noise', sigma, flat)['img'], after['img'])  # a rerun
    other = apply('noise', sigma, dict(flat, img_path='crops/b/0001.png'))
    assert not np.array_equal(other['img'], after['img'])  # another image, other noise


@pytest.mark.parametrize('factor', [2, 3])
def test_downscale_goes_down_and_back_up_bilinear(factor):
    before = sample()
    after = apply('downscale', factor, before)
    small = cv2.resize(before['img'], (80 // factor, 96 // factor),
                       interpolation=cv2.INTER_LINEAR)
    expected = cv2.resize(small, (80, 96), interpolation=cv2.INTER_LINEAR)
    assert after['img'].shape == before['img'].shape
    assert np.array_equal(after['img'], expected)
    assert not np.array_equal(after['img'], before['img'])


@pytest.mark.parametrize('kind', list(PERTURBATION_LEVELS))
def test_only_the_image_changes(kind):
    before = sample()
    after = apply(kind, PERTURBATION_LEVELS[kind][-1], before)
    assert np.array_equal(after['gt_seg_map'], before['gt_seg_map'])
    assert {k: v for k, v in after.items() if k not in ('img', 'gt_seg_map')} == \
        {k: v for k, v in before.items() if k not in ('img', 'gt_seg_map')}
    assert after['img'].shape == before['img'].shape and after['img'].dtype == np.uint8


@pytest.mark.parametrize('kind, level, message', [
    ('gamma', 2, "unknown perturbation 'gamma'; known: jpeg, blur, noise, downscale"),
    ('blur', 8, 'blur level 8: the kernel must be an odd whole number'),
    ('jpeg', 101, 'jpeg level 101: the quality must be a whole number 1-100'),
    ('downscale', 1, 'downscale level 1: the factor must be a whole number of 2 or more'),
    ('noise', float('nan'), 'noise level nan: must be a finite number'),
])
def test_a_wrong_kind_or_level_is_one_message(kind, level, message):
    with pytest.raises(ValueError) as err:
        TRANSFORMS.build(dict(type='ImagePerturbation', kind=kind, level=level))
    assert str(err.value) == f'ImagePerturbation: {message}'
