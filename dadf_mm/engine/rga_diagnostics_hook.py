"""RGA's diagnostics over a validation or test run, logged with its metrics.

During training the segmentor's ``RGAMonitor`` logs how much RGA can steer every N
steps (``DADF.rga_diagnostics_interval``). This hook does the same over every image of a
validation or test run: it reads the neck's inputs through a forward hook, averages
:meth:`RGANeck.diagnostics` over the batches, and puts the means into the message hub as
``val/rga_*`` or ``test/rga_*``, so they appear in the epoch's log line, in TensorBoard and
in ``tools/test.py``'s output.
"""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from ..models.necks.rga import forward_call_inputs


@HOOKS.register_module()
class RGADiagnosticsHook(Hook):
    """Averages ``RGANeck.diagnostics`` over validation and test runs.

    Args:
        digits (int): significant digits of the printed summary. Defaults to 3.
    """
    priority = 'NORMAL'  # before LoggerHook, which prints what the message hub holds

    def __init__(self, *, digits: int = 3) -> None:
        self.digits = digits
        self._handle = None
        self._sums: Dict[str, float] = {}
        self._count = 0

    def _neck(self, runner: Runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        neck = getattr(model, 'neck', None) if getattr(model, 'with_neck', False) else None
        return neck if hasattr(neck, 'diagnostics') else None

    def _start(self, runner: Runner) -> None:
        self._sums, self._count = {}, 0
        neck = self._neck(runner)
        if neck is None:
            return

        def record(module, args, kwargs, output) -> None:
            feat, diff = forward_call_inputs(args, kwargs)
            stats = module.diagnostics(feat, diff=diff)
            for key, value in stats.items():
                self._sums[key] = self._sums.get(key, 0.0) + float(value)
            self._count += 1

        self._handle = neck.register_forward_hook(record, with_kwargs=True)

    def _finish(self, runner: Runner, mode: str) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if not self._count:
            return
        means = {k: v / self._count for k, v in self._sums.items()}
        for key, value in means.items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)
        text = ', '.join(f'{k[4:]} {v:.{self.digits}g}' for k, v in means.items())
        runner.logger.info(f'RGA over the {mode} set ({self._count} batches): {text}')

    def before_val_epoch(self, runner: Runner) -> None:
        self._start(runner)

    def after_val_epoch(self, runner: Runner, metrics: Optional[Dict[str, float]] = None
                        ) -> None:
        self._finish(runner, 'val')

    def before_test_epoch(self, runner: Runner) -> None:
        self._start(runner)

    def after_test_epoch(self, runner: Runner, metrics: Optional[Dict[str, float]] = None
                         ) -> None:
        self._finish(runner, 'test')
