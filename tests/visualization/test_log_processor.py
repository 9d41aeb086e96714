"""Small losses keep their digits in the console log."""
from dadf_mm.visualization import SignificantLogProcessor, significant


def test_significant_digits():
    assert significant(9.2378e-05, 4) == '9.238e-05'
    assert significant(-3.5e-07, 4) == '-3.500e-07'
    assert significant(0.0099, 4) == '9.900e-03'
    assert significant(0.01, 4) == '0.0100'
    assert significant(0.7964, 4) == '0.7964'
    assert significant(0.0, 4) == '0.0000'
    assert significant(2.5e-05, 2) == '2.5e-05'


def test_log_line_rewrites_only_the_small_values():
    processor = SignificantLogProcessor(by_epoch=False)
    tag = dict(loss=0.79637, loss_rec=9.2378e-05, loss_seg=0.7234, time=0.0051,
               data_time=0.0021, lr=3e-4, rga_s_rel=0.0011226)
    line = ('Iter(train) [1/2]  lr: 3.0000e-04  eta: 0:00:21  time: 0.0051  data_time: '
            '0.0021  loss: 0.7964  loss_rec: 0.0001  loss_seg: 0.7234  rga_s_rel: 0.0011')
    assert processor._rewrite(tag, line) == (
        'Iter(train) [1/2]  lr: 3.0000e-04  eta: 0:00:21  time: 0.0051  data_time: '
        '0.0021  loss: 0.7964  loss_rec: 9.238e-05  loss_seg: 0.7234  rga_s_rel: 1.123e-03')
    # hierarchical keys (val/loss_rec) are written without their prefix
    assert processor._rewrite({'val/loss_rec': 2e-06}, 'loss_rec: 0.0000') == \
        'loss_rec: 2.000e-06'
