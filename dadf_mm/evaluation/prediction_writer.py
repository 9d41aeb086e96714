"""Write one JSON line per test image: its score, decision and forged area."""
import json
import logging
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from .result_files import write_result_file


@METRICS.register_module()
class ForgeryPredictionWriter(BaseMetric):
    """Dump per-image predictions to ``out_file`` (JSON lines); computes no metric.

    Each line: ``img_path``, ``method``, ``video_id``, ``gt_label`` (when known),
    ``fake_probability``, ``is_fake`` (probability > ``threshold``) and ``forged_area``
    (the share of pixels predicted forged). Correct under several processes: results are
    gathered by mmengine and written once, by rank 0, in dataset order.

    When ``out_file`` cannot be written at the end of the run, the lines go to a file in
    the temporary folder (``written_to``, with a warning) and the other metrics are kept.

    Args:
        out_file (str): The JSON-lines file to write (its folder is created).
        threshold (float): The probability above which an image is called fake.
            Defaults to 0.5.
        collect_device (str): Device used to gather the results across processes, ``'cpu'``
            or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the (empty) metric names. Defaults to None.
    """

    def __init__(self, *, out_file: str, threshold: float = 0.5,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_file = out_file
        self.threshold = threshold
        self.written_to: Optional[str] = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = float(sample['pred_score'])
            pred = sample['pred_sem_seg']['data']
            record = dict(img_path=sample.get('img_path'), method=sample.get('method'),
                          video_id=sample.get('video_id'), gt_label=sample.get('gt_label'),
                          fake_probability=round(score, 6), is_fake=score > self.threshold,
                          forged_area=round(float((pred > 0).float().mean()), 6))
            self.results.append(record)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        text = ''.join(json.dumps(record) + '\n' for record in results)
        self.written_to = write_result_file(text, self.out_file)
        if self.written_to != self.out_file:
            print_log(f'predictions: {self.out_file} could not be written; they are in '
                      f'{self.written_to}', logger='current', level=logging.WARNING)
        return {}
