"""A training run whose loss turns NaN at a chosen iteration (``model.noise.std = nan``
from then on), for the tests of the stop at a non-finite loss; loaded into tools/train.py
through ``custom_imports``. Just before, it records the md5 of every file in the work dir
in ``files_before_nan.json`` there, so a test can compare the files after the stop."""
import hashlib
import json
import os
import os.path as osp

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

RECORD = 'files_before_nan.json'


def file_digests(folder: str) -> dict:
    """``{name: md5}`` of the plain files directly in ``folder``."""
    digests = {}
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if osp.isfile(path) and name != RECORD:
            with open(path, 'rb') as f:
                digests[name] = hashlib.md5(f.read()).hexdigest()
    return digests


@HOOKS.register_module()
class NaNNoiseFromIter(Hook):
    """Sets ``model.noise.std`` to NaN before iteration ``iteration`` (1-based)."""
    priority = 'VERY_HIGH'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 != self.iteration:
            return
        with open(osp.join(runner.work_dir, RECORD), 'w') as f:
            json.dump(file_digests(runner.work_dir), f)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.noise.std = float('nan')
