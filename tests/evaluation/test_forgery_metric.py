"""ForgeryMetric end to end through process/evaluate, against hand-computed values."""
import copy
import math

import numpy as np
import pytest
from forgery_samples import make_data_sample, make_sample, square_mask
from mmengine.evaluator import Evaluator
from mmseg.registry import METRICS

from dadf_mm.evaluation import ForgeryMetric

EMPTY = square_mask(4)
G4 = square_mask(4, (0, 0), (0, 1), (1, 0), (1, 1))
P6 = square_mask(4, (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2))
P2 = square_mask(4, (3, 3), (3, 2))

# pred, gt, score, label, method, video_id
ROWS = [
    (P6, G4, 0.9, 1, 'Deepfakes', '000'),     # PBCA 10/16, IINC (7/6)/2.5, F1 .4, IoU .25
    (G4, G4, 0.7, 1, 'Deepfakes', '000'),     # PBCA 1, IINC 0, F1 1, IoU 1
    (EMPTY, G4, 0.4, 1, 'Face2Face', '000'),  # PBCA 12/16, IINC 1/2.75, F1 0, IoU 0
    (P2, EMPTY, 0.6, 0, 'original', '000'),   # PBCA 14/16, IINC 1/2.875
    (EMPTY, EMPTY, 0.2, 0, 'original', '001'),  # PBCA 1, IINC 0
]
IINC_1, IINC_3, IINC_4 = (7 / 6) / 2.5, 1 / 2.75, 1 / 2.875

EXPECTED = {
    'PBCA': 100 * (10 / 16 + 1 + 12 / 16 + 14 / 16 + 1) / 5,
    'IINC': 100 * (IINC_1 + IINC_3 + IINC_4) / 5,
    'pixel_F1': 100 * (0.4 + 1 + 0) / 3,
    'pixel_IoU': 100 * (0.25 + 1 + 0) / 3,
    # decisions (> .5): fake fake real fake real; right: yes yes no no yes
    'ACC': 60.0,
    # fakes .9 .7 .4 vs reals .6 .2: 5 of 6 pairs
    'AUC': 100 * 5 / 6,
    # sweep: t=.7 FPR 0 FNR 1/3; t=.6 FPR 1/2 FNR 1/3 (closest); t=.4 FPR 1/2 FNR 0
    'EER': 50.0,
    # videos DF/000 .8 fake, F2F/000 .4 fake, original/000 .6 real, original/001 .2 real
    'video_ACC': 50.0,
    'video_AUC': 75.0,     # .8 beats both reals, .4 beats .2 only
    'video_EER': 50.0,     # t=.6: FPR 1/2, FNR 1/2
    # ranked .9F .7F .6R .4F .2R: precision 1, 1 and 3/4 at the three fakes
    'AP': 100 * (1 + 1 + 3 / 4) / 3,
    # videos ranked .8F .6R .4F .2R: precision 1 and 2/3 at the two fake videos
    'video_AP': 100 * (1 + 2 / 3) / 2,
    # probability .9 where the mask says forged, .1 elsewhere; forged pixels: 6 at .9
    # (2 of P6 on G4, 4 of G4), 6 at .1; pristine: 6 at .9 (4 of P6, 2 of P2), 62 at .1.
    # Pairs forged > pristine 6 * 62, tied 6 * 6 + 6 * 62, of 12 * 68
    'pixel_AUC': 100 * (6 * 62 + (6 * 6 + 6 * 62) / 2) / (12 * 68),
    # the all-zero mask: TN / N = 12/16 on the three fakes, 1 on the reals; IINC 1 / 2.75
    # where only the ground truth has pixels; F1 and IoU 0 on every forged image
    'baseline/empty/PBCA': 100 * (3 * 12 / 16 + 2) / 5,
    'baseline/empty/IINC': 100 * 3 / 2.75 / 5,
    'baseline/empty/pixel_F1': 0.0,
    'baseline/empty/pixel_IoU': 0.0,
}


def samples(rows=ROWS, **kwargs):
    return [make_sample(pred, gt, score=score, label=label, method=method,
                        video_id=video, img_path=f'{method}/{video}/{i:03d}.png', **kwargs)
            for i, (pred, gt, score, label, method, video) in enumerate(rows)]


def evaluate(metric, batch, size=None):
    metric.process(None, batch[:2])
    metric.process(None, batch[2:])
    return metric.evaluate(len(batch) if size is None else size)


def test_end_to_end_values():
    result = evaluate(ForgeryMetric(), samples())
    assert set(result) == set(EXPECTED)
    assert result == pytest.approx(EXPECTED)


def test_through_mmengine_evaluator_with_seg_data_samples():
    data_samples = [make_data_sample(pred, gt, score=score, label=label, method=method,
                                     video_id=video, img_path=f'{i}.png')
                    for i, (pred, gt, score, label, method, video) in enumerate(ROWS)]
    evaluator = Evaluator(metrics=METRICS.build(dict(type='ForgeryMetric')))
    evaluator.process(data_samples=data_samples[:3], data_batch=None)
    evaluator.process(data_samples=data_samples[3:], data_batch=None)
    assert evaluator.evaluate(len(data_samples)) == pytest.approx(EXPECTED)


def test_per_method_breakdown():
    result = evaluate(ForgeryMetric(per_method=True), samples())
    expected = dict(EXPECTED)
    expected.update({
        'Deepfakes/ACC': 100.0,
        'Deepfakes/PBCA': 100 * (10 / 16 + 1) / 2,
        'Deepfakes/IINC': 100 * IINC_1 / 2,
        'Deepfakes/pixel_F1': 100 * (0.4 + 1) / 2,
        'Deepfakes/pixel_IoU': 100 * (0.25 + 1) / 2,
        'Deepfakes/AUC': 100.0,   # .9 .7 against the reals .6 .2
        'Deepfakes/EER': 0.0,
        'Deepfakes/AP': 100.0,
        'Face2Face/ACC': 0.0,
        'Face2Face/PBCA': 75.0,
        'Face2Face/IINC': 100 * IINC_3,
        'Face2Face/pixel_F1': 0.0,
        'Face2Face/pixel_IoU': 0.0,
        'Face2Face/AUC': 50.0,    # .4 against .6 and .2
        'Face2Face/EER': 50.0,    # t=.6: FPR 1/2, FNR 1 -> gap 1/2, first minimum
        'Face2Face/AP': 50.0,     # ranked .6R .4F .2R: precision 1/2 at the fake
        'original/ACC': 50.0,
        'original/PBCA': 100 * (14 / 16 + 1) / 2,
        'original/IINC': 100 * IINC_4 / 2,
    })
    assert set(result) == set(expected)
    assert result == pytest.approx(expected)


def test_same_video_id_under_two_methods_stays_two_videos():
    # if '000' were one video across methods it would hold fake and real frames
    # and raise; as two videos each method's frames average separately
    rows = [(G4, G4, 0.9, 1, 'Deepfakes', '000'), (G4, G4, 0.5, 1, 'Deepfakes', '000'),
            (EMPTY, EMPTY, 0.4, 0, 'original', '000'),
            (EMPTY, EMPTY, 0.8, 0, 'original', '001')]
    result = evaluate(ForgeryMetric(), samples(rows))
    # videos: DF/000 .7 fake, original/000 .4 real, original/001 .8 real
    assert result['video_ACC'] == pytest.approx(100 * 2 / 3)
    assert result['video_AUC'] == pytest.approx(50.0)
    assert result['ACC'] == pytest.approx(50.0)    # .5 is not > .5


def test_video_whose_frames_disagree_is_an_error_naming_it():
    rows = [(G4, G4, 0.9, 1, 'Deepfakes', '071_054'),
            (EMPTY, EMPTY, 0.4, 0, 'Deepfakes', '071_054')]
    with pytest.raises(ValueError, match='Deepfakes/071_054'):
        evaluate(ForgeryMetric(), samples(rows))


def test_detection_only_dataset_reports_detection_and_says_so_once(logged):
    metric = ForgeryMetric(localization='auto')
    for _ in range(2):
        result = evaluate(metric, samples(has_mask=False))
        assert set(result) == {'ACC', 'AUC', 'EER', 'AP', 'video_ACC', 'video_AUC',
                               'video_EER', 'video_AP'}
        assert result == pytest.approx({k: EXPECTED[k] for k in result})
    said = [line for line in logged if 'localisation is not measured' in line]
    assert len(said) == 1


def test_detection_only_needs_no_masks():
    rows = [(None, None) + row[2:] for row in ROWS]
    result = evaluate(ForgeryMetric(localization=False), samples(rows))
    assert 'PBCA' not in result and result['AUC'] == pytest.approx(EXPECTED['AUC'])


def test_auto_with_some_samples_masked_localises_those():
    batch = samples()
    batch[3]['has_mask'] = False   # a real sample with no mask: PBCA over the other 4
    result = evaluate(ForgeryMetric(), batch)
    assert result['PBCA'] == pytest.approx(100 * (10 / 16 + 1 + 12 / 16 + 1) / 4)
    assert result['AUC'] == pytest.approx(EXPECTED['AUC'])


def test_localization_true_rejects_a_sample_without_mask():
    with pytest.raises(ValueError, match="Deepfakes/000/000.png.*localization='auto'"):
        ForgeryMetric(localization=True).process(None, samples(has_mask=False)[:1])
    with pytest.raises(ValueError, match='localization must be'):
        ForgeryMetric(localization='yes')


def test_single_class_gives_nan_auc_and_a_log_line(logged):
    fakes = [row for row in ROWS if row[3] == 1]
    result = evaluate(ForgeryMetric(), samples(fakes))
    for key in ('AUC', 'EER', 'video_AUC', 'video_EER'):
        assert math.isnan(result[key])
    assert result['ACC'] == pytest.approx(100 * 2 / 3)
    assert any('AUC is undefined' in line for line in logged)


def test_empty_results_is_a_clear_error():
    with pytest.raises(ValueError, match='no results'):
        ForgeryMetric().evaluate(0)


def test_size_mismatch_names_the_image():
    batch = samples([(np.zeros((4, 5), dtype=np.int64), G4, 0.9, 1, 'Deepfakes', '000')])
    with pytest.raises(ValueError, match=r'Deepfakes/000/000.png: prediction shape'):
        ForgeryMetric().process(None, batch)


@pytest.mark.parametrize('change,message', [
    (lambda s: s.pop('pred_score'), "no 'pred_score'"),
    (lambda s: s.pop('video_id'), "no 'video_id'"),
    (lambda s: s.update(pred_score=np.float32(3.5)), 'not a probability'),
    (lambda s: s['gt_sem_seg']['data'].fill_(7), r'values \[7\]'),
    (lambda s: s['gt_sem_seg']['data'].fill_(255), 'every ground-truth pixel'),
    (lambda s: s.update(gt_label=0), 'label and mask disagree'),
])
def test_bad_samples_are_errors_naming_the_image(change, message):
    sample = samples()[0]
    change(sample)
    with pytest.raises(ValueError, match=message) as error:
        ForgeryMetric().process(None, [sample])
    assert 'Deepfakes/000/000.png' in str(error.value)


def test_process_keeps_scalars_not_masks():
    metric = ForgeryMetric()
    metric.process(None, samples()[:1])
    record = metric.results[0]
    assert record['counts'] == (16, 6, 4, 2)
    assert not any(hasattr(value, 'shape') for value in record.values())


def test_repeated_sample_counts_once(logged):
    metric = ForgeryMetric()
    batch = samples()
    metric.process(None, batch + copy.deepcopy(batch[:1]))  # a padded duplicate left in
    result = metric.compute_metrics(metric.results)
    assert result == pytest.approx(EXPECTED)
    assert any('dropped 1 repeated' in line for line in logged)


def test_greater_and_less_keys_cover_the_reported_keys():
    keys = set(ForgeryMetric.GREATER_IS_BETTER) | set(ForgeryMetric.LESS_IS_BETTER)
    assert keys == {k for k in EXPECTED if not k.startswith('baseline/')}
    # a baseline's key ends in the localisation metric it is, so it reads the same way
    baseline_metrics = {k.split('/')[-1] for k in EXPECTED if k.startswith('baseline/')}
    assert baseline_metrics == {'PBCA', 'IINC', 'pixel_F1', 'pixel_IoU'} and \
        baseline_metrics <= keys


def test_real_only_set_localises_but_f1_is_nan(logged):
    reals = [row for row in ROWS if row[3] == 0]
    result = evaluate(ForgeryMetric(), samples(reals))
    assert result['PBCA'] == pytest.approx(100 * (14 / 16 + 1) / 2)
    assert result['IINC'] == pytest.approx(100 * IINC_4 / 2)
    assert math.isnan(result['pixel_F1']) and math.isnan(result['pixel_IoU'])
    assert math.isnan(result['AUC'])
    assert any('no image has a forged pixel' in line for line in logged)


def test_prefix_is_optional_and_keys_are_flat_by_default():
    assert ForgeryMetric().prefix == ''
    result = evaluate(ForgeryMetric(prefix='ffpp'), samples())
    assert result == pytest.approx({f'ffpp/{k}': v for k, v in EXPECTED.items()})
