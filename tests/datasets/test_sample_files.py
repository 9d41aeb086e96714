"""Broken image and mask files end in one ForgeryDataError naming the file (case 11)."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from dadf_mm.datasets import ForgeryFolderDataset, write_annotations
from dadf_mm.datasets.errors import ForgeryDataError, MissingDataFileError
from dadf_mm.datasets.transforms import LoadForgeryImage

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


def dataset_of(tmp_path, record):
    write_annotations(str(tmp_path / 'list.jsonl'), [record])
    return ForgeryFolderDataset(ann_file=str(tmp_path / 'list.jsonl'), data_root=str(tmp_path),
                                pipeline=PIPELINE)


@pytest.fixture
def image(tmp_path):
    assert cv2.imwrite(str(tmp_path / 'img.png'), np.full((6, 8, 3), 90, np.uint8))
    return 'img.png'


def test_zero_byte_image(tmp_path):
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(ForgeryDataError, match=r'^image \S*empty\.png is empty \(0 bytes\); '
                       'replace the file or remove it from the annotation list$'):
        dataset_of(tmp_path, dict(img_path='empty.png', label=0))[0]


def test_missing_image_and_a_folder_as_image(tmp_path):
    with pytest.raises(MissingDataFileError, match=r'image \S*gone\.png does not exist'):
        dataset_of(tmp_path, dict(img_path='gone.png', label=0))[0]
    (tmp_path / 'folder.png').mkdir()
    with pytest.raises(ForgeryDataError, match=r'image \S*folder\.png cannot be read '
                       r'\(IsADirectoryError'):
        dataset_of(tmp_path, dict(img_path='folder.png', label=0))[0]


def test_truncated_png_image(tmp_path):
    ok, data = cv2.imencode('.png', np.random.default_rng(0).integers(0, 255, (32, 32, 3),
                                                                    dtype=np.uint8))
    (tmp_path / 'cut.png').write_bytes(data.tobytes()[:200])
    with pytest.raises(ForgeryDataError, match=r'image \S*cut\.png cannot be decoded as an '
                       r'image \(200 bytes'):
        dataset_of(tmp_path, dict(img_path='cut.png', label=0))[0]


def test_ignore_empty_drops_the_sample_as_mmcv_does(tmp_path):
    (tmp_path / 'empty.png').write_bytes(b'')
    loader = LoadForgeryImage(ignore_empty=True)
    assert loader(dict(img_path=str(tmp_path / 'empty.png'))) is None


@pytest.mark.parametrize('content, message', [
    (b'', r'mask \S*m\.png \(of image \S*img\.png\) is empty \(0 bytes\)'),
    (b'not an image at all', r'mask \S*m\.png \(of image \S*img\.png\) cannot be decoded '
     r'as an image \(19 bytes; UnidentifiedImageError'),
    (b'\x89PNG\r\n\x1a\n garbage', r'mask \S*m\.png .* cannot be decoded as an image \(16 bytes; '
     'OSError'),
])
def test_corrupt_mask(tmp_path, image, content, message):
    (tmp_path / 'm.png').write_bytes(content)
    with pytest.raises(ForgeryDataError, match=message):
        dataset_of(tmp_path, dict(img_path=image, mask_path='m.png', label=1))[0]


def test_missing_mask(tmp_path, image):
    with pytest.raises(MissingDataFileError, match=r'mask \S*m\.png \(of image \S*img\.png\) '
                       'does not exist'):
        dataset_of(tmp_path, dict(img_path=image, mask_path='m.png', label=1))[0]


def test_grey_alpha_mask_reads_its_grey_not_its_alpha(tmp_path, image):
    grey = np.zeros((6, 8), np.uint8)
    grey[1:3, 2:5] = 255
    alpha = np.full((6, 8), 255, np.uint8)  # opaque everywhere: not "forged everywhere"
    Image.fromarray(np.stack([grey, alpha], axis=2), mode='LA').save(tmp_path / 'm.png')
    sample = dataset_of(tmp_path, dict(img_path=image, mask_path='m.png', label=1))[0]
    np.testing.assert_array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(),
                                  grey // 255)


def test_dataset_configs_load_images_with_named_errors():
    """Every pipeline of configs/_base_/datasets loads images with LoadForgeryImage."""
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '_base_', 'datasets', '*.py'))):
        cfg = Config.fromfile(path)
        pipelines = [v for v in cfg.to_dict().values()
                     if isinstance(v, list) and v and isinstance(v[0], dict) and 'type' in v[0]]
        assert pipelines, path
        for pipeline in pipelines:
            assert pipeline[0]['type'] == 'LoadForgeryImage', path
