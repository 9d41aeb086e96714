"""Frame and video AP and the pooled pixel AUC, against references computed here
independently: AP as the mean, over the fakes, of the precision at each one's score
(scikit-learn's step-wise definition, ties entering together); the pixel AUC from every
(forged, pristine) pixel pair."""
import math
import warnings

import numpy as np
import pytest
import torch
from forgery_samples import make_sample

from dadf_mm.evaluation import ForgeryMetric
from dadf_mm.evaluation.functional import (
    UndefinedMetricWarning,
    aggregate_videos,
    average_precision,
    histogram_auc,
    pixel_histograms,
)
from dadf_mm.evaluation.pixel_histograms import PixelHistograms, pooled_pixel_auc


def reference_ap(scores, labels):
    """Mean over the fakes of precision(score >= the fake's score): O(n^2), no sorting."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    precisions = [labels[scores >= s].sum() / (scores >= s).sum()
                  for s in scores[labels == 1]]
    return float(np.mean(precisions))


def exact_pooled_auc(probabilities, gts, ignore_index=255):
    """P(forged > pristine) + P(forged == pristine) / 2 over every pixel pair."""
    forged = np.concatenate([p[g == 1] for p, g in zip(probabilities, gts)])
    pristine = np.sort(np.concatenate([p[g == 0] for p, g in zip(probabilities, gts)]))
    below = np.searchsorted(pristine, forged, side='left')
    tied = np.searchsorted(pristine, forged, side='right') - below
    return float((below.sum() + tied.sum() / 2) / (forged.size * pristine.size))


def test_average_precision_by_hand_with_a_tie():
    # ranked .9F, then a tie at .7 (one fake, one real) entering together, .4F, .2R:
    # precision 1 at .9, 2/3 at .7, 3/4 at .4
    scores, labels = [0.9, 0.7, 0.7, 0.4, 0.2], [1, 0, 1, 1, 0]
    assert average_precision(scores, labels) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # taking the tie one sample at a time would give (1 + 1 + 3/4) / 3 or (1 + 2/3 ...)
    assert average_precision(scores, labels) != pytest.approx((1 + 1 + 3 / 4) / 3)


@pytest.mark.parametrize('seed', range(5))
def test_average_precision_equals_reference_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    labels[:2] = [0, 1]
    scores = np.round(rng.random(300) * 0.5 + 0.3 * labels, 1)   # about 9 distinct values
    assert len(np.unique(scores)) < 20
    assert average_precision(scores, labels) == pytest.approx(reference_ap(scores, labels),
                                                              rel=1e-12)


def test_average_precision_one_class():
    with pytest.warns(UndefinedMetricWarning, match='all 3 samples are real'):
        assert math.isnan(average_precision([0.1, 0.5, 0.9], [0, 0, 0]))
    assert average_precision([0.1, 0.5, 0.9], [1, 1, 1]) == 1.0


def random_maps(seed, num_images=6, size=12):
    """Probability maps and masks: forged regions, real images, ignored pixels, ties."""
    rng = np.random.default_rng(seed)
    probabilities, gts = [], []
    for i in range(num_images):
        gt = np.zeros((size, size), dtype=np.int64)
        if i % 3:
            top, left = rng.integers(0, size // 2, 2)
            gt[top:top + size // 3, left:left + size // 2] = 1
        gt[0, :3] = 255
        p = np.clip(rng.normal(0.35 + 0.3 * gt, 0.2), 0, 1)
        p[rng.random(p.shape) < 0.2] = 0.5                       # ties across classes
        probabilities.append(p.astype(np.float32))
        gts.append(gt)
    return probabilities, gts


@pytest.mark.parametrize('bins', [2**16, 64, 2])
def test_histogram_auc_within_its_bound_of_the_exact_pooled_auc(bins):
    for seed in range(3):
        probabilities, gts = random_maps(seed)
        exact = exact_pooled_auc(probabilities, gts)
        histograms = sum(pixel_histograms(p, g, bins=bins) for p, g in zip(probabilities, gts))
        value = histogram_auc(histograms)
        assert abs(value.auc - exact) <= value.error_bound + 1e-12
        assert int(histograms.sum()) == sum(int((g != 255).sum()) for g in gts)
        if bins == 2:
            assert value.auc != pytest.approx(exact)   # coarse bins do move it


def test_histogram_auc_bound_is_reached_and_bin_values_are_exact():
    # every forged pixel just above every pristine one, all in one bin of 2: exact 1,
    # histogram 1/2, bound 1/2
    value = histogram_auc(pixel_histograms(np.array([0.5, 0.6, 0.7]), np.array([0, 1, 1]),
                                           bins=2))
    assert (value.auc, value.error_bound) == (0.5, 0.5)
    # values that are bin starts keep their order and ties: the histogram AUC is exact
    probabilities, gts = random_maps(7)
    probabilities = [np.floor(p * 256) / 256 for p in probabilities]
    histograms = sum(pixel_histograms(p, g, bins=256) for p, g in zip(probabilities, gts))
    assert histogram_auc(histograms).auc == pytest.approx(
        exact_pooled_auc(probabilities, gts), rel=1e-12)


def metric_samples(seed):
    """Samples with random scores (with ties), videos and probability maps; two images
    without a mask."""
    rng = np.random.default_rng(seed)
    probabilities, gts = random_maps(seed, num_images=9)
    batch = []
    for i, (p, gt) in enumerate(zip(probabilities, gts)):
        label = int((gt == 1).any())
        has_mask = i not in (2, 5)
        batch.append(make_sample(
            (p > 0.5).astype(np.int64), gt if has_mask else np.zeros_like(gt),
            score=float(np.round(rng.random(), 1)), label=label,
            method='fake' if label else 'real', video_id=f'{i // 2}', img_path=f'{i}.png',
            has_mask=has_mask, probabilities=p))
    return batch, probabilities, gts


@pytest.mark.parametrize('seed', range(3))
def test_forgery_metric_ap_and_pixel_auc_equal_the_references(seed):
    batch, probabilities, gts = metric_samples(seed)
    metric = ForgeryMetric(localization='auto')
    metric.process(None, batch[:4])
    metric.process(None, batch[4:])
    result = metric.evaluate(len(batch))

    scores = [float(s['pred_score']) for s in batch]
    labels = [s['gt_label'] for s in batch]
    assert result['AP'] == pytest.approx(100 * reference_ap(scores, labels), rel=1e-12)
    keys = [(s['method'], s['video_id']) for s in batch]
    _, video_scores, video_labels = aggregate_videos(scores, labels, keys)
    assert result['video_AP'] == pytest.approx(
        100 * reference_ap(video_scores, video_labels), rel=1e-12)

    # pooled over the images with masks only
    with_mask = [i for i in range(len(batch)) if i not in (2, 5)]
    exact = 100 * exact_pooled_auc([probabilities[i] for i in with_mask],
                                   [gts[i] for i in with_mask])
    assert abs(result['pixel_AUC'] - exact) <= metric.pixel_auc_error_bound + 1e-9
    assert result['pixel_AUC'] == pytest.approx(exact, abs=1e-3)

    # the next evaluation starts from empty histograms
    metric.process(None, batch)
    assert metric.evaluate(len(batch))['pixel_AUC'] == pytest.approx(result['pixel_AUC'])


def test_samples_without_probability_map_leave_pixel_auc_out(logged):
    batch, _, _ = metric_samples(0)
    del batch[0]['seg_logits']
    metric = ForgeryMetric()
    metric.process(None, batch)
    result = metric.evaluate(len(batch))
    assert 'pixel_AUC' not in result and 'PBCA' in result
    assert any('1 of 7 localised samples carry no probability map' in line
               for line in logged)


def test_probability_outside_unit_interval_is_an_error_naming_the_sample():
    batch, _, _ = metric_samples(0)
    batch[3]['seg_logits']['data'] = batch[3]['seg_logits']['data'] * 8 - 4   # logits
    with pytest.raises(ValueError, match=r'^3\.png: seg_logits holds values outside'):
        ForgeryMetric().process(None, batch)


def pixel_sample(probability):
    return dict(gt_sem_seg=dict(data=torch.zeros(1, 2, 2, dtype=torch.long)),
                seg_logits=dict(data=torch.full((1, 2, 2), probability)))


def test_collected_leaves_out_the_padded_last_sample():
    pixels = PixelHistograms(bins=4)
    for i, p in enumerate((0.1, 0.9)):        # bins 0 and 3
        assert pixels.add(i, pixel_sample(p), f'{i}.png')
    # on a set of 3 under two processes the results fill slots r, r + 2: rank 1's second
    # result (slot 3) is padding and mmengine's collect drops it
    assert pixels.collected(num_results=2, rank=1, world_size=2, size=3)[0].tolist() == \
        [4, 0, 0, 0]
    assert pixels.collected(num_results=2, rank=0, world_size=2, size=3)[0].tolist() == \
        [4, 0, 0, 4]


def test_a_repeated_sample_and_a_sample_without_mask_add_no_pixels():
    pixels = PixelHistograms(bins=4)
    assert pixels.add('a', pixel_sample(0.1), 'a.png')
    assert pixels.add('a', pixel_sample(0.9), 'a.png')      # the same sample again
    assert not pixels.add('b', None, 'b.png')              # localisation not measured
    assert pixels.collected(num_results=3, rank=0, world_size=1, size=3)[0].tolist() == \
        [4, 0, 0, 0]


def test_pixels_counted_twice_make_pixel_auc_nan(logged):
    record = dict(counts=(4, 0, 1, 0), has_probabilities=True)
    results = [dict(record, pixel_histograms=np.array([[3, 3], [1, 1]]))]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        value = pooled_pixel_auc(results, [record], PixelHistograms(bins=2))
    assert math.isnan(value.auc)
    assert any('hold 8 pixels but the 1 distinct localised samples have 4' in line
               for line in logged)
