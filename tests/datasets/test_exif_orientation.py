"""A photo stored on its side (EXIF orientation) and its mask line up as loaded.

The image is shown as a viewer shows it (turned by its EXIF orientation), and its mask,
which labels the stored pixels, is turned the same way. The expected regions below are
worked out by hand from the stored region and the orientation's definition.
"""
import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from dadf_mm.datasets import ForgeryFolderDataset, write_annotations
from dadf_mm.datasets.errors import ForgeryDataError
from dadf_mm.datasets.transforms.orientation import exif_orientation, orient

PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


def write_photo(path, stored, orientation):
    """A grey JPEG of the stored pixels with the EXIF orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, exif=exif, quality=95)


def stored_case(height, width, rows, cols):
    """Stored pixels: white in the forged region (16-pixel aligned, so JPEG keeps it
    exact), black elsewhere; the mask marks the same region, 0/255."""
    stored = np.zeros((height, width), np.uint8)
    stored[rows, cols] = 255
    return stored, stored.copy()


def load(tmp_path, stored, orientation, mask, pipeline=PIPELINE):
    write_photo(tmp_path / 'photo.jpg', stored, orientation)
    assert cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    write_annotations(str(tmp_path / 'list.jsonl'),
                      [dict(img_path='photo.jpg', mask_path='mask.png', label=1)])
    dataset = ForgeryFolderDataset(ann_file=str(tmp_path / 'list.jsonl'),
                                   data_root=str(tmp_path), pipeline=pipeline)
    sample = dataset[0]
    image = sample['inputs'].numpy()[0]  # the grey JPEG's first channel, (H, W)
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    return image, gt


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize('orientation, size, region, shown_size, shown_region', [
    # square, 180 degrees: top-left -> bottom-right
    (3, (32, 32), (slice(0, 16), slice(0, 16)), (32, 32), (slice(16, 32), slice(16, 32))),
    # 32 x 48 stored (H x W), turned 90 degrees clockwise: 48 x 32 shown;
    # stored (r, c) -> shown (c, 31 - r)
    (6, (32, 48), (slice(0, 16), slice(32, 48)), (48, 32), (slice(32, 48), slice(16, 32))),
    # turned 90 degrees counter-clockwise: stored (r, c) -> shown (47 - c, r)
    (8, (32, 48), (slice(0, 16), slice(32, 48)), (48, 32), (slice(0, 16), slice(0, 16))),
])
def test_mask_lines_up_with_the_turned_photo(tmp_path, orientation, size, region, shown_size,
                                            shown_region):
    stored, mask = stored_case(*size, *region)
    image, gt = load(tmp_path, stored, orientation, mask)
    expected = np.zeros(shown_size, bool)
    expected[shown_region] = True
    assert image.shape == gt.shape == shown_size
    assert iou(gt == 1, expected) == 1.0
    assert iou(image > 127, expected) == 1.0  # the white region of the photo as shown
    # the photo is what a viewer (PIL) and OpenCV's imread (tools/infer.py) show
    shown = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / 'photo.jpg')))
    assert np.array_equal(shown > 127, expected)
    assert np.array_equal(cv2.imread(str(tmp_path / 'photo.jpg'))[..., 0] > 127, expected)


def test_unchanged_colour_type_keeps_both_stored(tmp_path):
    """color_type='unchanged' turns neither the photo nor its mask."""
    stored, mask = stored_case(32, 48, slice(0, 16), slice(32, 48))
    pipeline = [dict(type='LoadForgeryImage', color_type='unchanged'), *PIPELINE[1:]]
    image, gt = load(tmp_path, stored, 6, mask, pipeline)
    assert gt.shape == (32, 48) and iou(gt == 1, stored > 127) == 1.0
    assert iou(image > 127, stored > 127) == 1.0


def test_mask_drawn_on_the_shown_photo_is_one_line(tmp_path):
    stored, _ = stored_case(32, 48, slice(0, 16), slice(32, 48))
    shown_mask = np.ascontiguousarray(np.rot90(stored, k=-1))  # 48 x 32, as shown
    with pytest.raises(ForgeryDataError) as err:
        load(tmp_path, stored, 6, shown_mask)
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith('mask ') and 'mask.png is 32x48 (WxH)' in message
    assert ('photo.jpg is stored as 48x32 and shown 32x48 (EXIF orientation 6: turned 90 '
            'degrees clockwise)') in message
    assert 'fits the image as shown: turn the mask back to the stored pixels' in message


def test_orient_matches_pil_for_every_orientation(tmp_path):
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f'o{orientation}.png'
        Image.fromarray(stored).save(path, exif=exif)
        data = path.read_bytes()
        assert exif_orientation(data) == orientation
        reference = np.asarray(ImageOps.exif_transpose(Image.open(path)))
        np.testing.assert_array_equal(orient(stored, orientation), reference)
    # no tag, an invalid tag, bytes that are no image: nothing to turn
    Image.fromarray(stored).save(tmp_path / 'plain.png')
    assert exif_orientation((tmp_path / 'plain.png').read_bytes()) == 1
    exif = Image.Exif()
    exif[0x0112] = 9
    Image.fromarray(stored).save(tmp_path / 'bad.jpg', exif=exif)
    assert exif_orientation((tmp_path / 'bad.jpg').read_bytes()) == 1
    assert exif_orientation(b'not an image') == 1
