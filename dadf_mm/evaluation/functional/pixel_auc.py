"""Pixel-level AUC pooled over a set of images, from histograms of the forged probability.

The pixels of every image whose mask is known are pooled: forged pixels (ground truth 1)
are the positives, pristine pixels (0) the negatives, pixels equal to ``ignore_index``
are left out. Instead of keeping every pixel, each class's probabilities are counted in
``bins`` equal bins of [0, 1] (bin ``min(floor(p * bins), bins - 1)``), so histograms of
parts of a set (images, processes) add up.

Within a bin the order of a forged and a pristine pixel is not known and the pair counts
one half, as a tie does. The AUC from the histograms therefore differs from the exact one
by at most half the share of (forged, pristine) pairs that fall in one bin, a bound
computed from the same histograms (:func:`histogram_auc`).
"""
from typing import NamedTuple

import numpy as np

#: the default number of bins: 2**16, so bins are 1.5e-5 wide
PIXEL_AUC_BINS = 2**16


class HistogramAUC(NamedTuple):
    """The AUC of two histograms and how far from the exact AUC it can be.

    Attributes:
        auc (float): The AUC in [0, 1], a same-bin pair counting one half.
        error_bound (float): The largest possible |auc - exact AUC|: half the share of
            (forged, pristine) pairs in one bin.
    """

    auc: float
    error_bound: float


def probability_bins(probabilities: np.ndarray, bins: int = PIXEL_AUC_BINS) -> np.ndarray:
    """The bin of each probability: ``min(floor(p * bins), bins - 1)``.

    Args:
        probabilities (np.ndarray): Values in [0, 1], any shape.
        bins (int): The number of equal bins of [0, 1]. Defaults to 2**16.

    Returns:
        np.ndarray: int64 bin indices, the shape of ``probabilities``.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.size and not (np.all(probabilities >= 0) and np.all(probabilities <= 1)):
        raise ValueError('probabilities must lie in [0, 1] (and not be NaN)')
    return np.minimum((probabilities * bins).astype(np.int64), bins - 1)


def pixel_histograms(probabilities: np.ndarray,
                     gt: np.ndarray,
                     *,
                     bins: int = PIXEL_AUC_BINS,
                     ignore_index: int = 255) -> np.ndarray:
    """Histograms of the forged probability of pristine and of forged pixels.

    Args:
        probabilities (np.ndarray): The forged probability of each pixel, in [0, 1].
        gt (np.ndarray): The ground truth, same shape: 0 pristine, 1 forged,
            ``ignore_index`` left out.
        bins (int): The number of equal bins of [0, 1]. Defaults to 2**16.
        ignore_index (int): Ground-truth value of pixels left out. Defaults to 255.

    Returns:
        np.ndarray: (2, bins) int64 counts, row 0 pristine and row 1 forged pixels.
    """
    probabilities, gt = np.asarray(probabilities), np.asarray(gt)
    if probabilities.shape != gt.shape:
        raise ValueError(f'probability map shape {probabilities.shape} differs from '
                         f'ground-truth shape {gt.shape}')
    valid = gt != ignore_index
    index = probability_bins(probabilities[valid], bins) + bins * (gt[valid] > 0.5)
    return np.bincount(index, minlength=2 * bins).reshape(2, bins).astype(np.int64)


def histogram_auc(histograms: np.ndarray) -> HistogramAUC:
    """ROC AUC of forged against pristine pixels from their histograms.

    AUC = P(forged bin > pristine bin) + 0.5 P(same bin), over all (forged, pristine)
    pixel pairs. NaN (bound 0) when a class has no pixel.

    Args:
        histograms (np.ndarray): (2, bins) counts, row 0 pristine, row 1 forged, as
            :func:`pixel_histograms` gives (or a sum of them).

    Returns:
        HistogramAUC: The AUC and its error bound against the exact pooled AUC.
    """
    pristine, forged = np.asarray(histograms, dtype=np.float64)
    num_pristine, num_forged = pristine.sum(), forged.sum()
    if num_pristine == 0 or num_forged == 0:
        return HistogramAUC(float('nan'), 0.0)
    pristine_below = np.cumsum(pristine) - pristine
    pairs = num_pristine * num_forged
    same_bin = float(np.dot(forged, pristine)) / pairs
    above = float(np.dot(forged, pristine_below)) / pairs
    return HistogramAUC(above + 0.5 * same_bin, 0.5 * same_bin)
