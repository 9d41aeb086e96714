"""One process and two (gloo on CPU) give the same ForgeryMetric values on a set
whose size does not divide by two, through DefaultSampler's padding and mmengine's
own collect path."""
import json
import os
import socket
from collections import Counter

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from forgery_samples import make_sample
from mmengine.dataset import DefaultSampler

import dadf_mm.evaluation.forgery_metric as forgery_metric_module
from dadf_mm.evaluation import ForgeryMetric

SET_SIZE = 7          # DefaultSampler pads it to 8: sample 0 again on rank 1
BATCH_SIZE = 3


def dist_samples() -> list:
    rng = np.random.default_rng(3)
    methods = ['Deepfakes', 'Face2Face', 'original']
    batch = []
    for i in range(SET_SIZE):
        method = methods[i % 3]
        label = int(method != 'original')
        gt = np.zeros((8, 8), dtype=np.int64)
        if label:
            gt[1:5, 2:6] = 1
        pred = (rng.random((8, 8)) < (0.7 if i == 0 else 0.15)).astype(np.int64)
        if i % 2:
            pred[1:5, 2:6] = gt[1:5, 2:6]
        gt[7, :] = 255 if i == 4 else gt[7, :]
        probabilities = np.clip(0.6 * pred + 0.4 * rng.random((8, 8)), 0, 1)
        # scores with a tie (AP and AUC take it at once)
        score = 0.55 if i in (1, 3) else float(rng.random())
        batch.append(make_sample(pred, gt, score=score, label=label,
                                 method=method, video_id=f'{i // 2:03d}',
                                 img_path=f'{method}/{i:03d}.png',
                                 probabilities=probabilities))
    return batch


def evaluate_shard(indices, dataset, *, collect_device, collect_dir=None):
    metric = ForgeryMetric(per_method=True, collect_device=collect_device,
                           collect_dir=collect_dir)
    for start in range(0, len(indices), BATCH_SIZE):
        metric.process(None, [dataset[i] for i in indices[start:start + BATCH_SIZE]])
    return metric.evaluate(len(dataset))


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', rank=rank, world_size=world_size)
    warnings = []
    original_print_log = forgery_metric_module.print_log

    def record(msg, *args, **kwargs):
        warnings.append(msg)
        original_print_log(msg, *args, **kwargs)

    forgery_metric_module.print_log = record
    try:
        dataset = dist_samples()
        indices = list(DefaultSampler(dataset, shuffle=False))
        results = {
            'cpu': evaluate_shard(indices, dataset, collect_device='cpu',
                                  collect_dir=os.path.join(out_dir, 'collect')),
            'gpu': evaluate_shard(indices, dataset, collect_device='gpu'),
        }
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(indices=indices, results=results, log=warnings), f)
    finally:
        torch_dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]

    # the sampler really padded: 8 slots for 7 samples, sample 0 twice
    served = ranks[0]['indices'] + ranks[1]['indices']
    assert len(served) == 8 and Counter(served)[0] == 2 and set(served) == set(range(7))

    dataset = dist_samples()
    single = evaluate_shard(list(range(SET_SIZE)), dataset, collect_device='cpu')
    assert not any(np.isnan(v) for v in single.values())
    assert {'AP', 'video_AP', 'pixel_AUC', 'Deepfakes/AP'} <= set(single)
    for rank in ranks:
        for device in ('cpu', 'gpu'):
            assert rank['results'][device] == pytest.approx(single, rel=1e-12)
        # mmengine's collect dropped the padding itself: nothing left to deduplicate
        assert not any('repeated' in line or 'distinct samples' in line
                       for line in rank['log'])

    # and the padded duplicate would have changed the numbers had it counted twice
    twice = [dict(s) for s in (dataset[i] for i in served)]
    twice[-1]['img_path'] = 'a-second-copy.png'
    counted_twice = evaluate_shard(list(range(8)), twice, collect_device='cpu')
    for key in ('PBCA', 'IINC', 'ACC', 'AUC', 'AP', 'pixel_AUC'):
        assert counted_twice[key] != pytest.approx(single[key])
