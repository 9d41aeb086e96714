import hashlib
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from dadf_mm.datasets import SyntheticForgeryDataset
from dadf_mm.datasets.synthetic_forgery_dataset import source_images

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def digest(array):
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_splits_draw_from_disjoint_source_images():
    splits = {s: source_images(s) for s in ('train', 'val', 'test')}
    names = {s: set(v) for s, v in splits.items()}
    pixels = {s: {digest(img) for img in v.values()} for s, v in splits.items()}
    for a, b in (('train', 'val'), ('train', 'test'), ('val', 'test')):
        assert not names[a] & names[b]
        assert not pixels[a] & pixels[b]  # not even the same picture under another name
    assert sum(n.startswith('lfw_') for n in names['train']) == 70
    assert sum(n.startswith('lfw_') for n in names['test']) == 20


def test_dataset_half_real_half_fake_with_masks(tmp_path):
    dataset = SyntheticForgeryDataset(split='test', num_samples=10, img_size=64,
                                      cache_dir=str(tmp_path), pipeline=PIPELINE)
    assert len(dataset) == 10
    labels = []
    for i in range(len(dataset)):
        sample = dataset[i]
        meta = sample['data_samples'].metainfo
        gt = sample['data_samples'].gt_sem_seg.data
        assert tuple(sample['inputs'].shape) == (3, 64, 64) and tuple(gt.shape) == (1, 64, 64)
        labels.append(meta['gt_label'])
        assert meta['has_mask'] is True
        if meta['gt_label'] == 1:
            assert meta['method'] == 'synthetic' and 0 < int(gt.sum()) < 64 * 64
            saved = cv2.imread(meta['seg_map_path'], cv2.IMREAD_GRAYSCALE)
            np.testing.assert_array_equal(gt[0].numpy(), (saved > 127).astype(np.int64))
        else:
            assert meta['method'] == 'original' and int(gt.sum()) == 0
    assert labels == [0, 1] * 5
    with open(dataset.ann_file) as f:
        sources = {json.loads(line)['source'] for line in f}
    assert sources <= set(source_images('test'))


def test_dataset_is_deterministic_in_its_seed(tmp_path):
    def images(seed, where):
        ds = SyntheticForgeryDataset(split='train', num_samples=6, img_size=48, seed=seed,
                                     cache_dir=str(tmp_path / where))
        return [cv2.imread(info['img_path']) for info in ds.load_data_list()]

    first, again, other = images(0, 'a'), images(0, 'b'), images(1, 'c')
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    assert not all(np.array_equal(x, y) for x, y in zip(first, other))


HARD = dict(offset_range=(20.0, 40.0), traces=('resample', 'recompress', 'noise'),
            noise_std=3.0, jpeg_quality=90)


def test_hard_options_make_another_deterministic_set_in_its_own_folder(tmp_path):
    """The harder case's options: their own cache folder (never the default set's), the
    same images for the same seed, none equal to the default set's; grey sources stay grey;
    away from the forgery a real view and its fake differ by their JPEG coding only (they
    share the view and its sensor noise)."""
    def build(where, **options):
        return SyntheticForgeryDataset(split='test', num_samples=8, img_size=64,
                                       cache_dir=str(tmp_path / where), **options)

    hard, again, plain = build('a', **HARD), build('b', **HARD), build('c')
    assert osp.basename(hard.folder) != osp.basename(plain.folder)
    assert 'resample-recompress-noise' in hard.folder and '_q90' in hard.folder
    images = [cv2.imread(i['img_path']) for i in hard.load_data_list()]
    repeat = [cv2.imread(i['img_path']) for i in again.load_data_list()]
    assert all(np.array_equal(x, y) for x, y in zip(images, repeat))
    default = [cv2.imread(i['img_path']) for i in plain.load_data_list()]
    assert not any(np.array_equal(x, y) for x, y in zip(images, default))
    with open(hard.ann_file) as f:
        records = [json.loads(line) for line in f]
    for k in range(0, len(images), 2):
        real, fake = images[k], images[k + 1]
        if records[k]['source'].startswith('lfw_'):
            assert (real == real[..., :1]).all()  # grey stays grey
        mask = cv2.imread(records[k + 1]['mask_path'], cv2.IMREAD_GRAYSCALE)
        outside = cv2.dilate(mask, np.ones((9, 9), np.uint8)) == 0
        # outside the (dilated) forgery the pair differs by JPEG re-encoding only
        assert np.abs(real[outside].astype(int) - fake[outside].astype(int)).mean() < 3


def test_unknown_trace_and_bad_quality_are_refused(tmp_path):
    with pytest.raises(ValueError, match="traces \\['blur'\\] are unknown"):
        SyntheticForgeryDataset(split='test', num_samples=2, cache_dir=str(tmp_path),
                                traces=('blur', ))
    with pytest.raises(ValueError, match='jpeg_quality must be in 1..100'):
        SyntheticForgeryDataset(split='test', num_samples=2, cache_dir=str(tmp_path),
                                jpeg_quality=0)
