"""With the Resize in the test pipeline, evaluation still compares masks at each image's own
size: the model sees 128 px, the metric gets the prediction and the ground truth at the
image's size."""
import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, METRICS, MODELS

from tests.helpers.inference_cases import DEMO


def test_demo_test_pipeline_evaluates_160px_images_at_160px(demo_checkpoint, tmp_path):
    cfg = Config.fromfile(DEMO)
    ds_cfg = dict(cfg.test_dataloader.dataset, num_samples=4, img_size=160,
                  cache_dir=str(tmp_path))
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(demo_checkpoint, weights_only=True)['state_dict'])
    model.eval()
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    assert all(tuple(x.shape[1:]) == (128, 128) for x in batch['inputs'])
    with torch.no_grad():
        results = model.test_step(batch)
    metric = METRICS.build(dict(type='ForgeryMetric'))
    metric.dataset_meta = dataset.metainfo
    metric.process(batch, [r.to_dict() for r in results])
    for index, (result, record) in enumerate(zip(results, metric.results)):
        info = dataset.get_data_info(index)
        assert tuple(result.pred_sem_seg.shape) == (160, 160)
        gt = result.gt_sem_seg.data[0].numpy()
        if info['seg_map_path'] is None:
            expected = np.zeros((160, 160), np.uint8)
        else:  # the mask file at its own size, as written (0/255)
            expected = (cv2.imread(info['seg_map_path'], cv2.IMREAD_GRAYSCALE) > 127)
        np.testing.assert_array_equal(gt, expected.astype(gt.dtype))
        valid, predicted, forged, both = record['counts']
        assert valid == 160 * 160  # compared pixel by pixel at 160 px
        pred = result.pred_sem_seg.data[0].numpy() == 1
        assert (predicted, forged, both) == (pred.sum(), expected.sum(), (pred & expected).sum())
    metrics = metric.compute_metrics(metric.results)
    assert 0 <= metrics['PBCA'] <= 100
