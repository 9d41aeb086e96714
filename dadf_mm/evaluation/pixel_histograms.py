"""The forged-probability histograms one process keeps for ``ForgeryMetric``'s pooled
``pixel_AUC``, and the part of them that mmengine's collect keeps."""
import logging
from typing import Hashable, Optional, Sequence, Set

import numpy as np
import torch
from mmengine.logging import print_log

from .functional import PIXEL_AUC_BINS, HistogramAUC, histogram_auc


class PixelHistograms:
    """Histograms of the forged probability of pristine and forged pixels, summed over the
    images a process evaluates (a fixed 2 x ``bins`` counts, whatever the number of
    pixels).

    A sample whose identity this process has already counted is not counted again. The
    last sample's histogram is kept apart until the next one comes: under
    ``DefaultSampler`` the samples padded onto a process are its last, and
    :meth:`collected` leaves out the ones mmengine's ``collect_results`` drops.

    Args:
        bins (int): Equal bins of [0, 1]. Defaults to 2**16.
        ignore_index (int): Ground-truth value of pixels left out. Defaults to 255.
    """

    def __init__(self, *, bins: int = PIXEL_AUC_BINS, ignore_index: int = 255) -> None:
        if bins < 1:
            raise ValueError(f'pixel_auc_bins must be a positive integer, got {bins}')
        self.bins = bins
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        """Forget every sample (at the start of an evaluation)."""
        self._folded = np.zeros((2, self.bins), dtype=np.int64)
        self._last: Optional[np.ndarray] = None
        self._seen: Set[Hashable] = set()

    def add(self, identity: Hashable, sample: Optional[dict], name: str) -> bool:
        """Count the pixels of one sample; call it for every sample, in order.

        Args:
            identity (Hashable): The sample's identity; one already counted is skipped.
            sample (dict, optional): The data sample (``seg_logits``: the forged
                probability per pixel, ``gt_sem_seg``); None for a sample whose
                localisation is not measured.
            name (str): The sample's name in messages.

        Returns:
            bool: Whether the sample has a probability map (``seg_logits``).

        Raises:
            ValueError: The map's shape differs from the ground truth's, or it holds values
                outside [0, 1].
        """
        self._fold()
        if sample is None or 'seg_logits' not in sample:
            return False
        if identity in self._seen:
            return True
        gt = sample['gt_sem_seg']['data']
        probabilities = sample['seg_logits']['data'].to(gt.device)
        if probabilities.shape != gt.shape:
            raise ValueError(f'{name}: seg_logits shape {tuple(probabilities.shape)} '
                             f'differs from ground-truth shape {tuple(gt.shape)}; '
                             'pixel_AUC needs one forged probability per pixel')
        valid = gt != self.ignore_index
        probabilities = probabilities[valid].float()
        outside = ~((probabilities >= 0) & (probabilities <= 1))
        index = (probabilities * self.bins).long().clamp_(0, self.bins - 1)
        index += self.bins * (gt[valid] > 0.5).long()
        counts = torch.bincount(index, minlength=2 * self.bins)
        if bool(outside.any()):
            raise ValueError(f'{name}: seg_logits holds values outside [0, 1]; pixel_AUC '
                             'needs the forged probability (the sigmoid of the mask '
                             "logits, as the segmentor's predict() gives)")
        self._last = counts.view(2, self.bins).cpu().numpy().astype(np.int64)
        self._seen.add(identity)
        return True

    def _fold(self) -> None:
        if self._last is not None:
            self._folded += self._last
            self._last = None

    def collected(self, *, num_results: int, rank: int, world_size: int,
                  size: int) -> np.ndarray:
        """The histograms of this process's samples that ``collect_results`` keeps.

        ``collect_results`` interleaves the processes' results (process r's j-th result
        at j * world_size + r) and keeps the first ``size``; a dropped result can only be
        this process's last (``DefaultSampler`` pads at most one sample per process).

        Args:
            num_results (int): How many results this process has.
            rank (int): This process's rank.
            world_size (int): The number of processes.
            size (int): The dataset's length.

        Returns:
            np.ndarray: (2, bins) int64 counts, row 0 pristine and row 1 forged pixels.
        """
        total = self._folded.copy()
        last_kept = (num_results - 1) * world_size + rank < size
        if self._last is not None and last_kept:
            total += self._last
        return total


def pooled_pixel_auc(results: Sequence[dict], measured: Sequence[dict],
                     local: PixelHistograms) -> Optional[HistogramAUC]:
    """``pixel_AUC`` from the histograms every process attached to its first result
    (``pixel_histograms``), checked against the samples' pixel counts; what is not right
    is said in the log.

    Args:
        results (Sequence[dict]): The collected results, repeated samples included. When
            none carries histograms (``compute_metrics`` called without ``evaluate``),
            ``local``'s, all of them, are used.
        measured (Sequence[dict]): The distinct localised records (``counts``,
            ``has_probabilities``).
        local (PixelHistograms): This process's histograms.

    Returns:
        HistogramAUC | None: None when some sample has no probability map; NaN when the
        histograms do not hold the samples' pixels or a class has no pixel.
    """
    without_map = sum(not r.get('has_probabilities', False) for r in measured)
    if without_map:
        print_log(f'ForgeryMetric: pixel_AUC is not reported: {without_map} of '
                  f'{len(measured)} localised samples carry no probability map '
                  '(seg_logits)', logger='current', level=logging.WARNING)
        return None
    attached = [r['pixel_histograms'] for r in results if 'pixel_histograms' in r]
    histograms = np.sum(attached, axis=0) if attached else local.collected(
        num_results=len(results), rank=0, world_size=1, size=len(results))
    expected = sum(int(r['counts'][0]) for r in measured)
    counted = int(histograms.sum())
    if counted != expected:
        print_log(f'ForgeryMetric: pixel_AUC is NaN: the histograms hold {counted} pixels '
                  f'but the {len(measured)} distinct localised samples have {expected} '
                  '(a sample counted by two processes, or a result other than the '
                  "padding left out by mmengine's collect)",
                  logger='current', level=logging.WARNING)
        return HistogramAUC(float('nan'), float('nan'))
    value = histogram_auc(histograms)
    num_forged = int(histograms[1].sum())
    if np.isnan(value.auc):
        only = 'pristine' if num_forged == 0 else 'forged'
        print_log(f'ForgeryMetric: pixel_AUC is undefined: every pixel is {only}; '
                  'reporting NaN', logger='current', level=logging.WARNING)
        return value
    print_log(f'ForgeryMetric: pixel_AUC pooled over {counted} pixels ({num_forged} '
              f'forged) of {len(measured)} images; {histograms.shape[1]} bins, so at most '
              f'{100 * value.error_bound:.4g} points from the exact AUC (pairs in one bin '
              'count as ties)', logger='current')
    return value
