"""ForgeryMetric: localisation (PBCA, IINC, pixel F1/IoU) beside the baselines a mask must
beat, and detection (ACC, AUC, EER at frame and video level), in one mmengine metric."""
import logging
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from .calibrated_metrics import CALIBRATION_RULES, calibrated_values, choose_threshold
from .constant_disc import ConstantDisc
from .functional import (
    PIXEL_AUC_BINS,
    MaskCounts,
    aggregate_videos,
    average_precision,
    binary_accuracy,
    equal_error_rate,
    roc_auc,
)
from .metric_values import localisation_values, logged_metric, video_grouping
from .pixel_histograms import PixelHistograms, pooled_pixel_auc
from .sample_records import sample_record

#: the baselines scored beside the model's masks: key part -> what the table calls it
BASELINES = {
    'empty': 'empty mask',
    'disc': 'disc on every image',
    'disc_where_fake': 'disc where the model says fake',
}
#: the localisation metrics, in the order they are reported
LOCALISATION_KEYS = ('PBCA', 'IINC', 'pixel_F1', 'pixel_IoU')


@METRICS.register_module()
class ForgeryMetric(BaseMetric):
    """Face forgery localisation and detection metric (Kong et al., TIFS 2022).

    Localisation, per image and then averaged over images, in %:

    - ``PBCA``: (TP + TN) / N, real images (all-zero masks) included. Greater is better.
    - ``IINC``: inverse intersection non-containment, real images included.
      Less is better.
    - ``pixel_F1``, ``pixel_IoU``: F1 and IoU of the forged class, the mean over
      images whose ground truth has at least one forged pixel (per-image averaging,
      not pooled pixel counts). Greater is better.

    Masks are binarised with a strict ``> 0.5``; ground-truth pixels equal to
    ``ignore_index`` are left out of every count.

    Detection, in %, on ``pred_score`` (the probability that a face is fake):

    - ``ACC`` (``pred_score > score_threshold``), ``AUC``: greater is better.
    - ``EER``: the FPR at the ROC point where |FNR - FPR| is smallest; less is better.
    - ``video_ACC``, ``video_AUC``, ``video_EER``: the same on video scores, a video's
      score being the mean of its frames' scores. A video is identified by
      ``method`` and ``video_id`` together (FF++ reuses ids across methods); all its
      frames must carry the same ``gt_label``. The log says how the videos were
      grouped, from each sample's ``video_id_source``: by the list's ``video_id``
      (the default when a dataset does not say), by folder, or each image its own video
      (a list of still images without ``video_id``: video scores equal frame scores).

    AUC and EER are NaN (with a logged warning) when the set holds only one class.

    A calibrated threshold adds ``calibrated_threshold`` (a probability, not a %),
    ``ACC@calibrated`` and ``video_ACC@calibrated`` (``ACC`` stays at ``score_threshold``),
    chosen on the evaluated set with ``calibration`` (a validation) or given (``tools/test.py``
    sets the checkpoint's and ``decision_threshold``, the model's, which gates its masks).

    Ranking, in %, greater is better: ``AP`` and ``video_AP``, the average precision of
    the fake score (scikit-learn's step-wise ``average_precision_score``; NaN without
    fakes); ``pixel_AUC``, the ROC AUC of the forged probability (``seg_logits``) over the
    pixels of the localised images pooled over the set (real images included), at most
    ``pixel_auc_error_bound`` points (set by an evaluation) from the exact value.

    Baselines, on the same images and counted the same way, so that no localisation
    figure stands alone: ``baseline/<b>/PBCA``, ``baseline/<b>/IINC``,
    ``baseline/<b>/pixel_F1`` and ``baseline/<b>/pixel_IoU`` for

    - ``empty``: the all-zero mask on every image;
    - ``disc``: the constant disc (:class:`~.constant_disc.ConstantDisc`, fitted on the
      training masks) on every image;
    - ``disc_where_fake``: the constant disc on the images the model calls fake
      (``pred_score > decision_threshold``, else ``score_threshold``), the empty mask
      elsewhere: a constant mask behind the model's own classifier.

    The disc baselines need ``constant_disc`` (given, or set on the metric by
    ``ConstantDiscHook`` and ``tools/test.py``); without it only ``empty`` is reported
    and the log says why, once. Baselines are not broken down per method.

    With ``per_method=True`` each method ``m`` adds ``m/ACC`` (over that method's
    samples), ``m/PBCA``, ``m/IINC`` (when its localisation is measured),
    ``m/pixel_F1``, ``m/pixel_IoU`` (when its masks have forged pixels), and, for a
    method that has fake samples, ``m/AUC``, ``m/EER`` and ``m/AP`` computed on that method's
    fakes against every real sample of the set (the usual per-manipulation protocol
    of FF++).

    Keys are flat (no prefix unless ``prefix`` is given), so a config can use e.g.
    ``CheckpointHook(save_best='PBCA', rule='greater')`` or
    ``save_best='IINC', rule='less'``.

    Each sample is counted once. mmengine's ``collect_results`` drops the samples a
    ``DefaultSampler`` pads onto the last rank; beyond that, samples are identified
    by (``img_path``, ``sample_idx``) and a repeated identity is dropped and logged.

    Args:
        localization (bool | str): ``True`` measures localisation on every sample (a
            sample marked ``has_mask=False`` is then an error); ``False`` measures
            detection only; ``'auto'`` measures localisation on the samples whose
            metainfo does not say ``has_mask=False`` and states once in the log when none
            has a mask. Defaults to 'auto'.
        per_method (bool): add the per-method breakdown described above.
            Defaults to False.
        score_threshold (float): the fake decision for ACC is
            ``pred_score > score_threshold``. Defaults to 0.5.
        ignore_index (int): ground-truth value of pixels left out of localisation.
            Defaults to 255.
        collect_device (str): see ``mmengine.evaluator.BaseMetric``. Defaults to 'cpu'.
        collect_dir (str, optional): see ``mmengine.evaluator.BaseMetric``.
            Defaults to None.
        prefix (str, optional): prefix of every key; None for none. Defaults to None.
        constant_disc (dict | ConstantDisc, optional): the constant disc of the disc
            baselines (:meth:`ConstantDisc.to_dict`); None reports the empty-mask baseline
            only. Defaults to None.
        calibration (str, optional): choose a decision threshold on the evaluated set,
            ``'eer'`` (the EER point) or ``'accuracy'`` (the best accuracy); None for
            none. Defaults to None.
        calibrated_threshold (float, optional): a threshold chosen elsewhere, reported
            at when ``calibration`` is None. Defaults to None.
        decision_threshold (float, optional): the model's decision, where the disc of
            ``disc_where_fake`` is drawn; None: ``score_threshold``. Defaults to None.
        pixel_auc_bins (int): equal bins of [0, 1] the forged probabilities of
            ``pixel_AUC`` are counted in. Defaults to 2**16.
    """

    default_prefix: Optional[str] = ''
    GREATER_IS_BETTER = ('PBCA', 'pixel_F1', 'pixel_IoU', 'ACC', 'AUC', 'video_ACC',
                         'video_AUC')
    LESS_IS_BETTER = ('IINC', 'EER', 'video_EER')
    GREATER_IS_BETTER += ('AP', 'video_AP', 'pixel_AUC')

    def __init__(self,
                 *,
                 localization: Union[bool, str] = 'auto',
                 per_method: bool = False,
                 score_threshold: float = 0.5,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None,
                 prefix: Optional[str] = None,
                 constant_disc: Optional[Union[dict, ConstantDisc]] = None,
                 calibration: Optional[str] = None,
                 calibrated_threshold: Optional[float] = None,
                 decision_threshold: Optional[float] = None,
                 pixel_auc_bins: int = PIXEL_AUC_BINS) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        if localization not in (True, False, 'auto'):
            raise ValueError(f"localization must be True, False or 'auto', got {localization!r}")
        self.localization, self.per_method = localization, per_method
        self.score_threshold = score_threshold
        if calibration not in (None, *CALIBRATION_RULES):
            raise ValueError(f'calibration must be one of {CALIBRATION_RULES} or None, '
                             f'got {calibration!r}')
        self.calibration = calibration
        self.calibrated_threshold = calibrated_threshold
        self.decision_threshold = decision_threshold
        self.ignore_index = ignore_index
        self._expected_size: Optional[int] = None
        self._said_not_localized = self._said_no_disc = False
        self._disc: Optional[ConstantDisc] = None
        self._drawn: Dict[Tuple[int, int, str], torch.Tensor] = {}
        self.constant_disc = constant_disc
        #: after an evaluation: the images localised, and those with forged pixels (F1's)
        self.localised_images = self.forged_images = 0
        self._pixels = PixelHistograms(bins=pixel_auc_bins, ignore_index=ignore_index)
        #: after an evaluation: how far (in points) pixel_AUC can be from the exact value
        self.pixel_auc_error_bound = float('nan')

    @property
    def constant_disc(self) -> Optional[ConstantDisc]:
        """ConstantDisc | None: the disc of the disc baselines; set it before
        :meth:`process` (a dict is read with :meth:`ConstantDisc.from_dict`)."""
        return self._disc

    @constant_disc.setter
    def constant_disc(self, disc: Optional[Union[dict, ConstantDisc]]) -> None:
        if disc is not None and not isinstance(disc, ConstantDisc):
            disc = ConstantDisc.from_dict(disc)
        self._disc = disc
        self._drawn = {}

    # ------------------------------------------------------------------ process
    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep a few scalars per sample: label, score, method, video, pixel counts."""
        for sample in data_samples:
            record = self._sample_record(sample)
            measured = sample if record['counts'] is not None else None
            record['has_probabilities'] = self._pixels.add(record['identity'], measured,
                                                           record['name'])
            self.results.append(record)

    def _sample_record(self, sample: dict) -> dict:
        disc = self._disc_mask if self._disc is not None else None
        return sample_record(sample, localization=self.localization,
                             ignore_index=self.ignore_index, disc_mask=disc)

    def _disc_mask(self, shape: Tuple[int, int], device: torch.device) -> torch.Tensor:
        """The constant disc at ``shape`` (H, W), drawn once per size and device."""
        key = (*shape, str(device))
        if key not in self._drawn:
            self._drawn[key] = torch.from_numpy(self._disc.draw(*shape)).to(device)
        return self._drawn[key]

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, size: int) -> dict:
        """``BaseMetric.evaluate``, remembering ``size`` to check the sample count.

        Args:
            size (int): The length of the evaluated dataset.

        Returns:
            dict: The metrics, key -> value in % (see the class docstring).
        """
        self._expected_size = size
        if self.results:
            rank, world_size = get_dist_info()
            self.results[0] = dict(self.results[0], pixel_histograms=self._pixels.collected(
                num_results=len(self.results), rank=rank, world_size=world_size, size=size))
        try:
            return super().evaluate(size)
        finally:
            self._pixels.reset()

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            raise ValueError('ForgeryMetric received no results: the evaluation set is '
                             'empty or process() was never called')
        records = self._unique(results)
        scores = np.array([r['score'] for r in records], dtype=np.float64)
        labels = np.array([r['label'] for r in records], dtype=np.int64)
        methods = np.array([r['method'] for r in records], dtype=object)
        video_keys = [(r['method'], r['video_id']) for r in records]
        num_fake = int(labels.sum())

        metrics = self._detection(scores, labels, '')
        _, video_scores, video_labels = aggregate_videos(scores, labels, video_keys)
        metrics.update(self._detection(video_scores, video_labels, 'video_'))
        if self.calibration is not None:
            self.calibrated_threshold = choose_threshold(scores, labels, self.calibration)
        if self.calibrated_threshold is not None:
            metrics.update(calibrated_values(self.calibrated_threshold, scores, labels,
                                             video_scores, video_labels))
        metrics.update(self._average_precision(scores, labels, ''))
        metrics.update(self._average_precision(video_scores, video_labels, 'video_'))

        localized = np.array([r['counts'] is not None for r in records])
        self.localised_images = int(localized.sum())
        self.forged_images = 0
        if localized.any():
            measured = [r for r in records if r['counts'] is not None]
            counts = MaskCounts.stack([r['counts'] for r in measured])
            self.forged_images = int((np.asarray(counts.gt) > 0).sum())
            metrics.update(self._localization(counts, ''))
            metrics.update(self._baselines(measured, counts))
            metrics.update(self._pixel_auc(results, measured))
        if not localized.all():
            self._log_unlocalized(int((~localized).sum()), len(records))

        if self.per_method:
            metrics.update(self._per_method(records, scores, labels, methods, localized))
        print_log(f'ForgeryMetric: {len(records)} images ({num_fake} fake, '
                  f'{len(records) - num_fake} real) in {len(video_scores)} videos, '
                  f'localisation measured on {int(localized.sum())} images',
                  logger='current')
        print_log(f'ForgeryMetric: video metrics over {len(video_scores)} videos '
                  f'({video_grouping(records)})', logger='current')
        return metrics

    def _unique(self, results: List[dict]) -> List[dict]:
        records, seen = [], set()
        for record in results:
            if record['identity'] not in seen:
                seen.add(record['identity'])
                records.append(record)
        repeated = len(results) - len(records)
        if repeated:
            example = Counter(r['name'] for r in results).most_common(1)[0][0]
            print_log(f'ForgeryMetric: dropped {repeated} repeated samples (same '
                      f'img_path and sample_idx, e.g. {example}); each sample counts '
                      'once', logger='current', level=logging.WARNING)
        if self._expected_size is not None and len(records) != self._expected_size:
            print_log(f'ForgeryMetric: {len(records)} distinct samples were evaluated '
                      f'but the dataset has {self._expected_size}; some samples are '
                      'missing or the dataset lists one sample twice',
                      logger='current', level=logging.WARNING)
        return records

    def _detection(self, scores: np.ndarray, labels: np.ndarray,
                   prefix: str) -> Dict[str, float]:
        return {
            f'{prefix}ACC': 100.0 * binary_accuracy(
                scores, labels, threshold=self.score_threshold),
            f'{prefix}AUC': 100.0 * logged_metric(roc_auc, scores, labels, f'{prefix}AUC'),
            f'{prefix}EER': 100.0 * logged_metric(equal_error_rate, scores, labels,
                                            f'{prefix}EER'),
        }

    @staticmethod
    def _average_precision(scores: np.ndarray, labels: np.ndarray,
                           prefix: str) -> Dict[str, float]:
        return {f'{prefix}AP': 100.0 * logged_metric(average_precision, scores, labels,
                                                     f'{prefix}AP')}

    def _pixel_auc(self, results: List[dict], measured: List[dict]) -> Dict[str, float]:
        value = pooled_pixel_auc(results, measured, self._pixels)
        if value is None:
            return {}
        self.pixel_auc_error_bound = 100.0 * value.error_bound
        return {'pixel_AUC': 100.0 * value.auc}

    def _localization(self, counts: MaskCounts, prefix: str) -> Dict[str, float]:
        """PBCA and IINC over all images; F1 and IoU over images with forged pixels
        (NaN with a logged warning when there is none, omitted for a method)."""
        values = localisation_values(counts)
        if 'pixel_F1' not in values and not prefix:
            print_log('ForgeryMetric: pixel_F1 and pixel_IoU are undefined: no image '
                      'has a forged pixel; reporting NaN', logger='current',
                      level=logging.WARNING)
            values['pixel_F1'] = values['pixel_IoU'] = float('nan')
        return {f'{prefix}{k}': v for k, v in values.items()}

    def _baselines(self, records: List[dict], counts: MaskCounts) -> Dict[str, float]:
        """``baseline/<b>/<metric>`` of each baseline on the images of ``counts`` (the
        localised ``records``, in order); F1 and IoU are NaN where the model's are."""
        valid, gt = np.asarray(counts.valid), np.asarray(counts.gt)
        none = np.zeros_like(valid)
        masks = {'empty': MaskCounts(valid, none, gt, none)}
        if self._disc is not None and all(r['disc_counts'] is not None for r in records):
            disc_pred, disc_inter = (np.array(c, dtype=np.int64) for c in zip(
                *(r['disc_counts'] for r in records)))
            decision = (self.score_threshold if self.decision_threshold is None
                        else self.decision_threshold)
            called_fake = np.array([r['score'] > decision for r in records])
            masks['disc'] = MaskCounts(valid, disc_pred, gt, disc_inter)
            masks['disc_where_fake'] = MaskCounts(valid, np.where(called_fake, disc_pred, 0),
                                                  gt, np.where(called_fake, disc_inter, 0))
        elif not self._said_no_disc:
            self._said_no_disc = True
            why = ('no constant disc was given (ConstantDiscHook fits one on the training '
                   'masks, tools/test.py reads it from the checkpoint)'
                   if self._disc is None else
                   'the constant disc was set after some samples were processed')
            print_log(f'ForgeryMetric: only the empty-mask baseline is reported: {why}',
                      logger='current')
        metrics = {}
        for baseline, baseline_counts in masks.items():
            values = localisation_values(baseline_counts)
            for key in LOCALISATION_KEYS:
                metrics[f'baseline/{baseline}/{key}'] = values.get(key, float('nan'))
        return metrics

    def _per_method(self, records: List[dict], scores: np.ndarray, labels: np.ndarray,
                    methods: np.ndarray, localized: np.ndarray) -> Dict[str, float]:
        metrics: Dict[str, float] = {}
        real = labels == 0
        for method in sorted(set(methods)):
            mine = methods == method
            metrics[f'{method}/ACC'] = 100.0 * binary_accuracy(
                scores[mine], labels[mine], threshold=self.score_threshold)
            if (mine & localized).any():
                counts = MaskCounts.stack(
                    [r['counts'] for r, keep in zip(records, mine & localized) if keep])
                metrics.update(self._localization(counts, f'{method}/'))
            fake_of_method = mine & (labels == 1)
            if fake_of_method.any():
                pair = fake_of_method | real
                for key, fn in (('AUC', roc_auc), ('EER', equal_error_rate),
                                ('AP', average_precision)):
                    metrics[f'{method}/{key}'] = 100.0 * logged_metric(
                        fn, scores[pair], labels[pair], f'{method}/{key}')
        return metrics

    def _log_unlocalized(self, num_unlocalized: int, num_samples: int) -> None:
        if self._said_not_localized:
            return
        self._said_not_localized = True
        if num_unlocalized == num_samples:
            why = ('localization=False' if self.localization is False else
                   'no sample has a mask (has_mask=False)')
            print_log(f'ForgeryMetric: localisation is not measured ({why}); only '
                      'detection metrics are reported', logger='current')
        else:
            print_log(f'ForgeryMetric: {num_unlocalized} of {num_samples} samples have '
                      'no mask (has_mask=False); localisation metrics cover the other '
                      f'{num_samples - num_unlocalized}', logger='current')
