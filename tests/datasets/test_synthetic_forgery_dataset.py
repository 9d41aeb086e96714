import hashlib
import json

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
