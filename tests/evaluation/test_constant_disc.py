"""The constant disc: fitted on a training set's masks, drawn at any size; hand-computed."""
import math

import cv2
import numpy as np
import pytest

from dadf_mm.datasets import ForgeryFolderDataset, LoadForgeryAnnotations, LoadForgeryImage
from dadf_mm.evaluation.constant_disc import ConstantDisc, NoTrainingMasksError, fit_constant_disc
from tests.helpers.mask_sets import LARGE, SMALL, SMALL_LARGE_DISC, box, write_mask_set


def write_set(root, masks):
    write_mask_set(root, masks)
    return ForgeryFolderDataset(data_root=str(root), ann_file='list.jsonl', pipeline=[])


def test_fit_is_the_mean_area_and_the_mean_centroid(tmp_path):
    dataset = write_set(tmp_path, dict(small=SMALL, large=LARGE, blank=box(0, 0, 0, 0),
                                       unknown=None))
    disc = fit_constant_disc(dataset)
    # the real image, the blank mask and the fake without a mask file are left out
    assert disc.to_dict() == pytest.approx(SMALL_LARGE_DISC)


def test_fit_reads_masks_with_the_datasets_own_loading(tmp_path):
    write_mask_set(tmp_path, dict(small=SMALL, large=LARGE))
    # grey 150 in SMALL's box, 255 in LARGE's: forged only where > the pipeline's 200
    cv2.imwrite(str(tmp_path / 'small_mask.png'), SMALL * 150 + LARGE * 255)
    dataset = ForgeryFolderDataset(
        data_root=str(tmp_path), ann_file='list.jsonl',
        pipeline=[LoadForgeryImage(), LoadForgeryAnnotations(threshold=200)])
    disc = fit_constant_disc(dataset)
    assert (disc.area, disc.center_x, disc.center_y) == pytest.approx((0.18, 0.65, 0.7))


def test_fit_reads_at_most_max_masks_a_seeded_subset(tmp_path):
    dataset = write_set(tmp_path, dict(small=SMALL, large=LARGE))
    one = fit_constant_disc(dataset, max_masks=1, seed=3)
    assert one.num_masks == 1
    assert (one.area, one.center_x) in [(pytest.approx(0.08), pytest.approx(0.1)),
                                        (pytest.approx(0.18), pytest.approx(0.65))]
    assert fit_constant_disc(dataset, max_masks=1, seed=3) == one


def test_a_set_without_fake_masks_is_one_error_naming_its_list(tmp_path):
    dataset = write_set(tmp_path, dict(unknown=None, blank=box(0, 0, 0, 0)))
    with pytest.raises(NoTrainingMasksError, match=r'list\.jsonl.*no fake sample with a '
                       r'forged pixel.*\(1 fake samples with a mask file\)'):
        fit_constant_disc(dataset)


def test_draw_4x4_is_the_central_2x2():
    # r = 0.3 around (0.5, 0.5): the centres 0.375, 0.625 are 0.125 away on each axis
    # (0.03125 <= 0.09), the next ones 0.375 away (0.140625 + 0.015625 > 0.09)
    disc = ConstantDisc(center_x=0.5, center_y=0.5, area=math.pi * 0.09, num_masks=1)
    assert disc.draw(4, 4).tolist() == [[False] * 4, [False, True, True, False],
                                        [False, True, True, False], [False] * 4]


def test_draw_is_an_ellipse_in_pixels_of_a_wide_image():
    # height 4, width 8: columns at x distances 0.0625 and 0.1875 (squared 0.0039, 0.0352)
    # fit beside dy = 0.125 (0.015625) under 0.09; 0.3125 (0.0977) does not
    disc = ConstantDisc(center_x=0.5, center_y=0.5, area=math.pi * 0.09, num_masks=1)
    drawn = disc.draw(4, 8)
    assert drawn.shape == (4, 8)
    assert drawn[1:3, 2:6].all() and drawn.sum() == 8


def test_draw_covers_the_area_of_the_formula():
    disc = ConstantDisc(center_x=0.4, center_y=0.55, area=0.2, num_masks=5)
    drawn = disc.draw(300, 300)
    radius_px = math.sqrt(0.2 / math.pi) * 300
    # pixel counting errs by at most the pixels the circle's perimeter crosses
    assert abs(int(drawn.sum()) - 0.2 * 300 * 300) <= 2 * math.pi * radius_px
    rows, cols = np.nonzero(drawn)
    assert np.mean(cols + 0.5) / 300 == pytest.approx(0.4, abs=1e-3)
    assert np.mean(rows + 0.5) / 300 == pytest.approx(0.55, abs=1e-3)


def test_dict_round_trip_and_bad_dicts():
    disc = ConstantDisc(center_x=0.5, center_y=0.45, area=0.12, num_masks=7)
    assert ConstantDisc.from_dict(disc.to_dict()) == disc
    with pytest.raises(ValueError, match='needs num_masks'):
        ConstantDisc.from_dict(dict(center_x=0.5, center_y=0.5, area=0.1))
    with pytest.raises(ValueError, match='area must be a fraction'):
        ConstantDisc(center_x=0.5, center_y=0.5, area=1.5, num_masks=1)
