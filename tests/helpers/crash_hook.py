"""A hook that kills a training run after a given iteration, as a crash would; the tests
load it into tools/train.py through custom_imports."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class CrashAfterIter(Hook):
    priority = 'LOWEST'  # after the CheckpointHook has written that iteration

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.iteration:
            raise SystemExit(f'simulated crash after iteration {self.iteration}')
