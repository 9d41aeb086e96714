"""What :class:`~.forgery_metric.ForgeryMetric` keeps of one data sample: its label,
score, method, video and pixel counts, checked so that a wrong sample is named."""
from typing import Any, Callable, Optional, Tuple, Union

import torch

MASK_THRESHOLD = 0.5

#: (H, W), device -> the constant disc's mask at that size
DiscMask = Callable[[Tuple[int, int], torch.device], torch.Tensor]


def sample_record(sample: dict, *, localization: Union[bool, str], ignore_index: int,
                  disc_mask: Optional[DiscMask] = None) -> dict:
    """The scalars the metric keeps of a data sample (no mask is kept).

    Args:
        sample (dict): A data sample as ``ForgeryMetric.process`` receives it.
        localization (bool | str): ``True``, ``False`` or ``'auto'`` (measure where the
            sample has a mask).
        ignore_index (int): Ground-truth value left out of every count.
        disc_mask (DiscMask, optional): The constant disc at a size, for the disc
            baselines. Defaults to None.

    Returns:
        dict: ``identity``, ``name``, ``label``, ``score``, ``method``, ``video_id``,
        ``video_id_source``, ``counts`` and ``disc_counts`` (None where not measured).

    Raises:
        ValueError: A key is missing, or a value is not what it must be; the message names
            the sample.
    """
    img_path = sample.get('img_path')
    sample_idx = sample.get('sample_idx')
    if img_path is None and sample_idx is None:
        raise ValueError("a data sample carries neither 'img_path' nor "
                         "'sample_idx'; ForgeryMetric needs one of them to count "
                         'each sample once')
    name = img_path if img_path is not None else f'sample {sample_idx}'
    for key, source in (('pred_score', "the segmentor's predict()"),
                        ('gt_label', 'the packing transform (meta_keys)'),
                        ('method', 'the packing transform (meta_keys)'),
                        ('video_id', 'the packing transform (meta_keys)')):
        if key not in sample:
            raise ValueError(f'{name}: data sample has no {key!r}; it is set by '
                             f'{source}')
    score = _scalar(sample['pred_score'], name, 'pred_score')
    if not 0.0 <= score <= 1.0:
        raise ValueError(f'{name}: pred_score {score} is not a probability in '
                         '[0, 1]; the segmentor must apply the sigmoid')
    label = _scalar(sample['gt_label'], name, 'gt_label')
    if label not in (0, 1):
        raise ValueError(f'{name}: gt_label {label} is neither 0 (real) nor 1 (fake)')
    has_mask = bool(sample.get('has_mask', True))
    if localization is True and not has_mask:
        raise ValueError(f"{name}: the dataset marks this sample has_mask=False but "
                         "ForgeryMetric has localization=True; use localization="
                         "'auto' (or False) for a detection-only dataset")
    measure = localization is True or (localization == 'auto' and has_mask)
    counts, disc_counts = (mask_counts(sample, name, int(label), ignore_index=ignore_index,
                                       disc_mask=disc_mask) if measure else (None, None))
    return dict(
        identity=(img_path, sample_idx),
        name=name,
        label=int(label),
        score=score,
        method=str(sample['method']),
        video_id=str(sample['video_id']),
        video_id_source=str(sample.get('video_id_source', 'video_id')),
        counts=counts,
        disc_counts=disc_counts)


def mask_counts(sample: dict, name: str, label: int, *, ignore_index: int,
                disc_mask: Optional[DiscMask] = None) -> Tuple[tuple, Optional[tuple]]:
    """The model's four pixel counts and, with a constant disc, the disc's.

    Args:
        sample (dict): The data sample (``pred_sem_seg`` and ``gt_sem_seg``).
        name (str): The sample's name in messages.
        label (int): Its label, 0 real or 1 fake.
        ignore_index (int): Ground-truth value left out of every count.
        disc_mask (DiscMask, optional): The constant disc at a size. Defaults to None.

    Returns:
        tuple[tuple, tuple | None]: ``(valid, pred, gt, intersection)`` and the disc's
        ``(pred, intersection)`` on the same valid pixels (None without a disc).

    Raises:
        ValueError: A mask is missing, shapes differ, the ground truth has other values
            than 0, 1 and ``ignore_index``, or disagrees with the label.
    """
    for key in ('pred_sem_seg', 'gt_sem_seg'):
        if key not in sample:
            raise ValueError(f"{name}: data sample has no {key!r}, so localisation "
                             "cannot be measured; a dataset without masks must set "
                             "has_mask=False, or use localization=False")
    gt = sample['gt_sem_seg']['data']
    pred = sample['pred_sem_seg']['data'].to(gt.device)
    if pred.shape != gt.shape:
        raise ValueError(f'{name}: prediction shape {tuple(pred.shape)} differs from '
                         f'ground-truth shape {tuple(gt.shape)}; the segmentor must '
                         'resize predictions to the ground truth (ori_shape)')
    valid = gt != ignore_index
    p = (pred > MASK_THRESHOLD) & valid
    g = (gt > MASK_THRESHOLD) & valid
    unexpected = (gt != 0) & (gt != 1) & valid
    sums = [valid.sum(), p.sum(), g.sum(), (p & g).sum(), unexpected.sum()]
    if disc_mask is not None:
        disc = disc_mask(tuple(gt.shape[-2:]), gt.device) & valid
        sums += [disc.sum(), (disc & g).sum()]
    # one device-to-host transfer per sample
    values = torch.stack(sums).tolist()
    counts, num_unexpected = tuple(values[:4]), values[4]
    disc_counts = tuple(values[5:]) if disc_mask is not None else None
    if num_unexpected:
        found = sorted(set(gt[unexpected].unique().tolist()))
        raise ValueError(f'{name}: ground-truth mask has values {found}; expected 0 '
                         f'(pristine), 1 (forged) or {ignore_index} (ignored)')
    if counts[0] == 0:
        raise ValueError(f'{name}: every ground-truth pixel is {ignore_index} '
                         '(ignored); PBCA and IINC are undefined for it')
    if label == 0 and counts[2] > 0:
        raise ValueError(f'{name}: gt_label is 0 (real) but its mask has '
                         f'{counts[2]} forged pixels; label and mask disagree')
    return counts, disc_counts


def _scalar(value: Any, name: str, key: str) -> float:
    """A Python number from a number, a one-element tensor or array."""
    if hasattr(value, 'numel') and value.numel() != 1:
        raise ValueError(f'{name}: {key} must hold one value, got shape '
                         f'{tuple(value.shape)}')
    try:
        return value.item() if hasattr(value, 'item') else float(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f'{name}: {key} must be a number, got {value!r}') from error
