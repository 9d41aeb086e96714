"""ACC, AUC, EER and video aggregation against direct computations written here."""
import numpy as np
import pytest

from dadf_mm.evaluation.functional import (
    UndefinedMetricWarning,
    aggregate_videos,
    binary_accuracy,
    equal_error_rate,
    roc_auc,
    roc_curve,
)


def pairwise_auc(scores, labels):
    """P(score_fake > score_real) + 0.5 P(tie), over every fake-real pair."""
    fake = scores[labels == 1]
    real = scores[labels == 0]
    wins = (fake[:, None] > real[None, :]).sum()
    ties = (fake[:, None] == real[None, :]).sum()
    return (wins + 0.5 * ties) / (fake.size * real.size)


def swept_eer(scores, labels):
    """FPR where |FNR - FPR| is smallest, sweeping 'fake if score >= t' from t = +inf
    down through every distinct score; the first minimum wins."""
    fake = scores[labels == 1]
    real = scores[labels == 0]
    best_gap, best_fpr = np.inf, None
    for t in [np.inf] + sorted(set(scores.tolist()), reverse=True):
        fpr = np.mean(real >= t)
        fnr = np.mean(fake < t)
        if abs(fnr - fpr) < best_gap:
            best_gap, best_fpr = abs(fnr - fpr), fpr
    return best_fpr


def test_hand_example_with_a_tie():
    # fakes 0.9, 0.5, 0.3; reals 0.5, 0.1
    scores = np.array([0.9, 0.5, 0.3, 0.5, 0.1])
    labels = np.array([1, 1, 1, 0, 0])
    # pairs: 0.9 beats both (2), 0.5 ties 0.5 (0.5) and beats 0.1 (1), 0.3 beats 0.1 (1)
    assert roc_auc(scores, labels) == pytest.approx(4.5 / 6)
    # t=inf: FPR 0, FNR 1; t=.9: 0, 2/3; t=.5: 1/2, 1/3 (gap 1/6, smallest); t=.3: 1/2, 0
    assert equal_error_rate(scores, labels) == pytest.approx(0.5)
    # strict > 0.5: the fake at 0.5 and the real at 0.5 both count as real
    assert binary_accuracy(scores, labels) == pytest.approx(3 / 5)


@pytest.mark.parametrize('seed', range(6))
def test_auc_and_eer_match_direct_computation(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(5, 60))
    labels = rng.integers(0, 2, size)
    labels[:2] = [0, 1]
    # one decimal: many ties within and across classes
    scores = np.round(np.clip(rng.normal(0.4 + 0.2 * labels, 0.25), 0, 1), 1)
    assert roc_auc(scores, labels) == pytest.approx(pairwise_auc(scores, labels))
    assert equal_error_rate(scores, labels) == pytest.approx(swept_eer(scores, labels))


def test_roc_curve_points():
    fpr, tpr, thresholds = roc_curve([0.8, 0.8, 0.2, 0.6], [1, 0, 0, 1])
    assert thresholds.tolist() == [np.inf, 0.8, 0.6, 0.2]
    assert fpr.tolist() == [0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]


def test_perfect_and_inverted_scores():
    labels = np.array([0, 0, 1, 1])
    assert roc_auc([0.1, 0.2, 0.8, 0.9], labels) == 1.0
    assert equal_error_rate([0.1, 0.2, 0.8, 0.9], labels) == 0.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], labels) == 0.0
    assert equal_error_rate([0.9, 0.8, 0.2, 0.1], labels) == 1.0


@pytest.mark.parametrize('labels', [[1, 1, 1], [0, 0, 0]])
def test_single_class_is_nan_with_warning(labels):
    with pytest.warns(UndefinedMetricWarning, match='AUC is undefined'):
        assert np.isnan(roc_auc([0.2, 0.6, 0.9], labels))
    with pytest.warns(UndefinedMetricWarning, match='EER is undefined'):
        assert np.isnan(equal_error_rate([0.2, 0.6, 0.9], labels))
    assert binary_accuracy([0.2, 0.6, 0.9], labels) == pytest.approx(
        2 / 3 if labels[0] == 1 else 1 / 3)


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match='no scores'):
        roc_auc([], [])
    with pytest.raises(ValueError, match='labels must be 0'):
        roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match='2 scores but 3 labels'):
        binary_accuracy([0.1, 0.2], [0, 1, 1])


def test_videos_are_method_plus_id():
    # id '000' exists under two methods: two videos, not one
    keys, scores, labels = aggregate_videos(
        [0.2, 0.4, 0.9, 0.7, 0.1],
        [1, 1, 1, 1, 0],
        [('Deepfakes', '000'), ('Deepfakes', '000'), ('Face2Face', '000'),
         ('Face2Face', '000'), ('original', '000')])
    assert keys == [('Deepfakes', '000'), ('Face2Face', '000'), ('original', '000')]
    assert scores == pytest.approx([0.3, 0.8, 0.1])
    assert labels.tolist() == [1, 1, 0]


def test_video_with_disagreeing_frames_is_named():
    with pytest.raises(ValueError, match="'Deepfakes/071_054' has 1 fake and 1 real"):
        aggregate_videos([0.2, 0.4], [1, 0], [('Deepfakes', '071_054')] * 2)
