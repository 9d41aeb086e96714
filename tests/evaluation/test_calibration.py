"""The decision threshold chosen on labelled scores: each rule against a hand computation,
ForgeryMetric's calibrated figures, and the choice between given, stored and default."""
import numpy as np
import pytest

from dadf_mm.engine import decision_threshold
from dadf_mm.evaluation import ForgeryMetric
from dadf_mm.evaluation.functional import binary_accuracy, calibrated_threshold, equal_error_rate
from tests.evaluation.forgery_samples import make_sample

# five fakes and five reals, a fake and a real tied at 0.8
SCORES = [0.95, 0.9, 0.8, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
LABELS = [1, 1, 1, 0, 0, 1, 0, 1, 0, 0]
# By hand, the ROC points 'fake if score >= u' over the distinct scores u, from the top:
#   u      none  0.95  0.9   0.8   0.7   0.6   0.4   0.3   0.2   0.1
#   TP     0     1     2     3     3     4     4     5     5     5
#   FP     0     0     0     1     2     2     3     3     4     5
#   FNR    1     .8    .6    .4    .4    .2    .2    0     0     0
#   FPR    0     0     0     .2    .4    .4    .6    .6    .8    1
#   right  5     6     7     7     6     7     6     7     6     5   (of 10)
# EER point: |FNR - FPR| = 0 at u = 0.7 (0.7 and above fake): the midpoint of 0.7 and the
# next score 0.6 is 0.65. Best accuracy: 7 of 10 at u = 0.9, 0.8, 0.6 and 0.3; the tie
# goes to the first (highest) point, u = 0.9: the midpoint of 0.9 and 0.8 is 0.85.
HAND_EER_THRESHOLD = 0.65
HAND_ACCURACY_THRESHOLD = 0.85


def test_eer_rule_equals_the_hand_computation():
    threshold = calibrated_threshold(SCORES, LABELS, rule='eer')
    assert threshold == pytest.approx(HAND_EER_THRESHOLD)
    # at it, FNR = FPR = 0.4: the EER of detection.py
    assert equal_error_rate(SCORES, LABELS) == pytest.approx(0.4)
    assert binary_accuracy(SCORES, LABELS, threshold=threshold) == pytest.approx(0.6)


def test_accuracy_rule_equals_the_hand_computation_and_its_tie_rule():
    threshold = calibrated_threshold(SCORES, LABELS, rule='accuracy')
    assert threshold == pytest.approx(HAND_ACCURACY_THRESHOLD)
    assert binary_accuracy(SCORES, LABELS, threshold=threshold) == pytest.approx(0.7)
    # no threshold does better: every split, checked directly
    best = max(binary_accuracy(SCORES, LABELS, threshold=t)
               for t in np.linspace(-0.01, 1.0, 1011))
    assert best == pytest.approx(0.7)


def test_the_ends_call_nothing_or_everything_fake():
    # best accuracy calling everything fake: a threshold just below the lowest score
    threshold = calibrated_threshold([0.3, 0.2, 0.1, 0.9], [1, 1, 1, 0], rule='accuracy')
    assert 0.1 - 1e-12 < threshold < 0.1
    assert binary_accuracy([0.3, 0.2, 0.1, 0.9], [1, 1, 1, 0], threshold=threshold) == 0.75
    # none fake ties with all fake (1 of 2 each): the first, the highest score
    assert calibrated_threshold([0.9, 0.1], [0, 1], rule='accuracy') == 0.9


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="'median'"):
        calibrated_threshold(SCORES, LABELS, rule='median')
    with pytest.raises(ValueError, match='calibration'):
        ForgeryMetric(calibration='median')


def samples():
    return [make_sample(None, None, score=s, label=y, method='m', video_id=f'v{i}',
                        img_path=f'{i}.png') for i, (s, y) in enumerate(zip(SCORES, LABELS))]


@pytest.mark.parametrize('rule, hand, acc', [('eer', HAND_EER_THRESHOLD, 60.0),
                                             ('accuracy', HAND_ACCURACY_THRESHOLD, 70.0)])
def test_forgery_metric_chooses_the_threshold_on_the_set(rule, hand, acc):
    metric = ForgeryMetric(localization=False, calibration=rule)
    metric.process(None, samples())
    values = metric.compute_metrics(metric.results)
    assert values['calibrated_threshold'] == pytest.approx(hand)
    assert metric.calibrated_threshold == pytest.approx(hand)
    assert values['ACC'] == pytest.approx(100 * np.mean(
        (np.array(SCORES) > 0.5) == np.array(LABELS)))  # at 0.5: 7 of 10
    assert values['ACC@calibrated'] == pytest.approx(acc)
    assert values['video_ACC@calibrated'] == pytest.approx(acc)  # one frame per video


def test_forgery_metric_reports_at_a_given_threshold_and_not_without_one():
    metric = ForgeryMetric(localization=False, calibrated_threshold=0.85)
    metric.process(None, samples())
    values = metric.compute_metrics(metric.results)
    assert values['calibrated_threshold'] == 0.85 and values['ACC@calibrated'] == 70.0
    plain = ForgeryMetric(localization=False)
    plain.process(None, samples())
    assert not [k for k in plain.compute_metrics(plain.results) if 'calibrated' in k]


def test_one_class_gives_no_threshold():
    metric = ForgeryMetric(localization=False, calibration='eer')
    metric.process(None, [s for s, y in zip(samples(), LABELS) if y == 1])
    values = metric.compute_metrics(metric.results)
    assert 'calibrated_threshold' not in values and metric.calibrated_threshold is None


def test_given_beats_stored_beats_default():
    stored = dict(meta=dict(decision_threshold=dict(threshold=0.9, rule='eer', iteration=250)))
    chosen = decision_threshold(stored)
    assert (chosen.value, chosen.source) == (0.9, 'calibrated')
    assert 'EER point' in chosen.description and 'iteration 250' in chosen.description
    assert decision_threshold(stored, 0.3).value == 0.3
    assert decision_threshold(stored, 0.3).source == 'given'
    for without in (dict(meta={}), None, dict(meta=dict(decision_threshold=dict(
            threshold=float('nan'))))):
        default = decision_threshold(without)
        assert (default.value, default.source) == (0.5, 'default')
        assert 'carries no calibrated threshold' in default.description
