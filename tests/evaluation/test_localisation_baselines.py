"""ForgeryMetric's baselines (empty mask, constant disc, disc where the model says fake)
against a computation written out here from the metrics' definitions."""
import math

import numpy as np
import pytest
from forgery_samples import make_sample

from dadf_mm.evaluation import ForgeryMetric
from dadf_mm.evaluation.constant_disc import ConstantDisc

DISC = dict(center_x=0.45, center_y=0.55, area=0.2, num_masks=3)
THRESHOLD = 0.5


def blob(rng, height, width):
    """A random rectangle of forged pixels."""
    mask = np.zeros((height, width), np.int64)
    top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
    bottom, right = top + rng.integers(2, height // 2 + 2), left + rng.integers(2, width // 2 + 2)
    mask[top:bottom, left:right] = 1
    return mask


def image_set():
    """Real and fake images of three sizes, some fakes called fake and some not, one real
    called fake, some ground-truth pixels ignored (255): (pred, gt, score, label) rows."""
    rng = np.random.default_rng(7)
    rows = []
    for i, (height, width, label, score) in enumerate([
            (12, 12, 1, 0.9), (12, 12, 1, 0.3), (9, 15, 1, 0.7), (9, 15, 0, 0.6),
            (12, 12, 0, 0.1), (20, 8, 1, 0.55), (20, 8, 0, 0.4), (9, 15, 1, 0.2)]):
        gt = blob(rng, height, width) if label else np.zeros((height, width), np.int64)
        pred = blob(rng, height, width)
        if i % 3 == 0:
            gt[0, :3] = 255
        rows.append((pred, gt, score, label))
    return rows


def samples(rows):
    return [make_sample(pred, gt, score=score, label=label, method='m', video_id=str(i),
                        img_path=f'{i}.png') for i, (pred, gt, score, label) in enumerate(rows)]


def drawn_disc(height, width):
    """The disc, pixel by pixel: centre distance in fractions of the width and height."""
    radius = math.sqrt(DISC['area'] / math.pi)
    mask = np.zeros((height, width), bool)
    for y in range(height):
        for x in range(width):
            dx = (x + 0.5) / width - DISC['center_x']
            dy = (y + 0.5) / height - DISC['center_y']
            mask[y, x] = dx * dx + dy * dy <= radius * radius
    return mask


def reference(rows, predict):
    """PBCA, IINC, F1, IoU in % of the masks ``predict(pred, gt, score)`` gives, from their
    definitions, ignored pixels left out; F1 and IoU over images with forged pixels."""
    pbca, iinc, f1, iou = [], [], [], []
    for pred, gt, score, _ in rows:
        valid = gt != 255
        p = predict(pred, gt, score) & valid
        g = (gt == 1) & valid
        n = valid.sum()
        tp, tn = (p & g).sum(), (~p & ~g & valid).sum()
        inter, union = (p & g).sum(), (p | g).sum()
        pbca.append((tp + tn) / n)
        if p.sum() == 0 and g.sum() == 0:
            case = 0.0
        elif p.sum() == 0 or g.sum() == 0:
            case = 1.0
        else:
            case = 2 - inter / p.sum() - inter / g.sum()
        iinc.append(case / (3 - union / n))
        if g.sum() > 0:
            f1.append(2 * inter / (p.sum() + g.sum()))
            iou.append(inter / union)
    return {'PBCA': 100 * np.mean(pbca), 'IINC': 100 * np.mean(iinc),
            'pixel_F1': 100 * np.mean(f1) if f1 else math.nan,
            'pixel_IoU': 100 * np.mean(iou) if iou else math.nan}


BASELINES = {
    'empty': lambda pred, gt, score: np.zeros(gt.shape, bool),
    'disc': lambda pred, gt, score: drawn_disc(*gt.shape),
    'disc_where_fake': lambda pred, gt, score: drawn_disc(*gt.shape) & (score > THRESHOLD),
}


def evaluate(metric, rows):
    batch = samples(rows)
    metric.process(None, batch[:3])
    metric.process(None, batch[3:])
    return metric.evaluate(len(batch))


def test_baselines_equal_the_definitions():
    rows = image_set()
    assert any(drawn_disc(*gt.shape)[gt == 1].any() for _, gt, _, _ in rows)  # not vacuous
    result = evaluate(ForgeryMetric(constant_disc=DISC, score_threshold=THRESHOLD), rows)
    for baseline, predict in BASELINES.items():
        for key, value in reference(rows, predict).items():
            assert result[f'baseline/{baseline}/{key}'] == pytest.approx(value), (baseline, key)
    model = reference(rows, lambda pred, gt, score: pred == 1)
    assert {k: result[k] for k in model} == pytest.approx(model)
    # the three baselines differ, so each is its own computation
    assert len({result[f'baseline/{b}/pixel_IoU'] for b in BASELINES}) == 3


def test_disc_set_on_a_built_metric_and_drawn_once_per_size():
    rows = image_set()
    metric = ForgeryMetric()
    metric.constant_disc = ConstantDisc.from_dict(DISC)
    result = evaluate(metric, rows)
    assert result['baseline/disc/PBCA'] == pytest.approx(reference(rows, BASELINES['disc'])['PBCA'])
    assert sorted(key[:2] for key in metric._drawn) == [(9, 15), (12, 12), (20, 8)]
    assert (metric.localised_images, metric.forged_images) == (8, 5)


def test_without_a_disc_only_the_empty_baseline_and_one_line_why(logged):
    rows = image_set()
    metric = ForgeryMetric()
    first = evaluate(metric, rows)
    evaluate(metric, rows)
    assert {k for k in first if k.startswith('baseline/')} == {
        f'baseline/empty/{k}' for k in ('PBCA', 'IINC', 'pixel_F1', 'pixel_IoU')}
    why = [line for line in logged if 'only the empty-mask baseline' in line]
    assert len(why) == 1 and 'no constant disc was given' in why[0]


def test_real_only_set_baselines_have_nan_f1():
    rows = [row for row in image_set() if row[3] == 0]
    result = evaluate(ForgeryMetric(constant_disc=DISC), rows)
    assert result['baseline/empty/PBCA'] == 100.0
    assert math.isnan(result['baseline/disc/pixel_F1'])
    assert result['baseline/disc/PBCA'] == pytest.approx(reference(rows, BASELINES['disc'])['PBCA'])


def test_disc_where_fake_follows_the_models_decision_threshold():
    """Was: drawn where the score exceeded 0.5 (the threshold ACC is reported at) while the
    model gated its masks and called images fake at the calibrated threshold, so the
    baseline and predictions.jsonl's is_fake disagreed."""
    rows, decision = image_set(), 0.65  # calls 0.7 and 0.9 fake, not 0.55 and 0.6
    result = evaluate(ForgeryMetric(constant_disc=DISC, score_threshold=THRESHOLD,
                                    decision_threshold=decision), rows)
    expected = reference(rows, lambda pred, gt, score: drawn_disc(*gt.shape) & (score > decision))
    for key, value in expected.items():
        assert result[f'baseline/disc_where_fake/{key}'] == pytest.approx(value), key
    at_half = reference(rows, BASELINES['disc_where_fake'])
    assert expected['PBCA'] != pytest.approx(at_half['PBCA'])  # the threshold matters here
    assert result['ACC'] == pytest.approx(100 * 5 / 8)  # ACC stays at score_threshold (0.5)
