"""PBCA, IINC, pixel F1 and IoU on hand-made 4x4 masks (N = 16) against values
worked out by hand."""
import numpy as np
import pytest
from forgery_samples import square_mask

from dadf_mm.evaluation.functional import MaskCounts, iinc, mask_counts, pbca, pixel_f1, pixel_iou

EMPTY = square_mask(4)
G4 = square_mask(4, (0, 0), (0, 1), (1, 0), (1, 1))          # top-left 2x2
P6 = square_mask(4, (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2))  # overlaps G4 in 2
P2 = square_mask(4, (3, 3), (3, 2))
G2_IN_P4 = (square_mask(4, (0, 0), (0, 1)), square_mask(4, (0, 0), (0, 1), (1, 0), (1, 1)))

# name, pred, gt, (N, |P|, |G|, |I|), PBCA, IINC
CASES = [
    ('both empty', EMPTY, EMPTY, (16, 0, 0, 0), 1.0, 0.0),
    # P empty, G = 4: TN = 12; U = 4 -> 1 / (3 - 4/16)
    ('pred empty', EMPTY, G4, (16, 0, 4, 0), 12 / 16, 1 / 2.75),
    # P = 2, G empty: TN = 14; U = 2 -> 1 / (3 - 2/16)
    ('gt empty', P2, EMPTY, (16, 2, 0, 0), 14 / 16, 1 / 2.875),
    # I = 2, U = 8: TP 2 + TN 8; (2 - 2/6 - 2/4) / (3 - 8/16)
    ('partial overlap', P6, G4, (16, 6, 4, 2), 10 / 16, (7 / 6) / 2.5),
    ('identical', G4, G4, (16, 4, 4, 4), 1.0, 0.0),
    # G (2) inside P (4): (2 - 2/4 - 2/2) / (3 - 4/16)
    ('gt inside pred', G2_IN_P4[1], G2_IN_P4[0], (16, 4, 2, 2), 14 / 16, 0.5 / 2.75),
]


@pytest.mark.parametrize('name,pred,gt,counts,expected_pbca,expected_iinc', CASES,
                         ids=[c[0] for c in CASES])
def test_counts_pbca_iinc(name, pred, gt, counts, expected_pbca, expected_iinc):
    found = mask_counts(pred, gt)
    assert tuple(found) == counts
    assert pbca(found) == pytest.approx(expected_pbca)
    assert iinc(found) == pytest.approx(expected_iinc)


def test_vectorised_over_images_matches_one_by_one():
    counts = MaskCounts.stack([mask_counts(c[1], c[2]) for c in CASES])
    assert pbca(counts) == pytest.approx([c[4] for c in CASES])
    assert iinc(counts) == pytest.approx([c[5] for c in CASES])
    assert np.all((iinc(counts) >= 0) & (iinc(counts) <= 1))


def test_f1_and_iou():
    partial = mask_counts(P6, G4)
    assert pixel_f1(partial) == pytest.approx(2 * 2 / (6 + 4))
    assert pixel_iou(partial) == pytest.approx(2 / 8)
    identical = mask_counts(G4, G4)
    assert pixel_f1(identical) == 1.0 and pixel_iou(identical) == 1.0
    missed = mask_counts(EMPTY, G4)
    assert pixel_f1(missed) == 0.0 and pixel_iou(missed) == 0.0
    assert np.isnan(pixel_f1(mask_counts(EMPTY, EMPTY)))
    assert np.isnan(pixel_iou(mask_counts(EMPTY, EMPTY)))


def test_ignore_index_pixels_are_left_out():
    gt = G4.copy()
    gt[3, :] = 255                      # a padded row
    pred = G4.copy()
    pred[3, :] = 1                      # predicted forged, but ignored
    counts = mask_counts(pred, gt)
    assert tuple(counts) == (12, 4, 4, 4)
    assert pbca(counts) == 1.0 and iinc(counts) == 0.0


def test_threshold_is_strict():
    probabilities = np.full((2, 2), 0.5)
    probabilities[0, 0] = 0.51
    counts = mask_counts(probabilities, np.zeros((2, 2), dtype=np.int64))
    assert counts.pred == 1             # 0.5 itself is not forged


def test_shape_mismatch_and_all_ignored_are_errors():
    with pytest.raises(ValueError, match='shape'):
        mask_counts(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match='no valid pixel'):
        pbca(mask_counts(EMPTY, np.full((4, 4), 255)))
