"""RGA's diagnostics: during training every N iterations, and over validation and test runs.

Training. Every ``interval`` iterations (counted by ``runner.iter``, so a resumed run logs
at the iterations the uninterrupted run would have) the hook reads the neck's inputs of
the real training step through a forward hook, registered for that iteration only, and
logs :meth:`RGANeck.diagnostics` (how much RGA can steer: spread, entropy, minimum and
maximum of ``alpha``, ``S`` over ``|F|``): gradient-free statistics, no extra pass. Two
costlier measurements have their own keys, off by default:

* ``grad_share=True``: ``rga_rec_grad_share``, the share of ``L_rec`` in the adapters'
  gradient (:func:`~dadf_mm.models.utils.rec_gradient_share`, two extra backward passes
  on the step's graph, whose memory the allocator then keeps);
* ``signal_check_interval=N``: ``rga_s_corr`` every N iterations, the correlation of the
  model's ``S`` with that of its float64 twin
  (:func:`~dadf_mm.models.utils.rga_fidelity.rga_signal_check`) on up to two images of
  the batch. The twin is made once (kept on the CPU between checks, the model's weights
  copied into it for each) and the check runs after the training step, off its peak.

Nothing the hook runs changes training: the statistics run under ``no_grad`` on the
step's own tensors, the gradient share leaves ``.grad`` untouched, the signal check runs
in eval mode (no noise step counted, no BatchNorm statistics updated, seeded generators
of its own). The values go to the message hub as ``train/rga_*`` (the log line shows
them).

Validation and test. Over every image of the run: the means of
:meth:`RGANeck.diagnostics` go to the message hub as ``val/rga_*`` or ``test/rga_*``, so
they appear in the epoch's log line, in TensorBoard and in ``tools/test.py``'s output.
"""
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from torch import nn

from ..models.utils import adapter_gradient_share
from ..models.utils.rga_fidelity import float64_twin, rga_signal_check


def _interval(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f'RGADiagnosticsHook {name} must be an integer >= 0 (0: never), '
                         f'got {value!r}')
    return int(value)


@HOOKS.register_module()
class RGADiagnosticsHook(Hook):
    """RGA's statistics every N training iterations and averaged over validation and test.

    Args:
        interval (int): log the gradient-free statistics every N training iterations (the
            first included); 0 never. Defaults to 50.
        grad_share (bool): also log ``rga_rec_grad_share`` on those iterations (two extra
            backward passes). Defaults to False.
        signal_check_interval (int): log ``rga_s_corr`` (float64 signal check) every N
            training iterations; 0 never. Defaults to 0.
        digits (int): significant digits of the printed validation / test summary.
            Defaults to 3.
    """
    priority = 'NORMAL'  # before LoggerHook, which prints what the message hub holds

    def __init__(self, *, interval: int = 50, grad_share: bool = False,
                 signal_check_interval: int = 0, digits: int = 3) -> None:
        self.interval = _interval('interval', interval)
        self.grad_share = bool(grad_share)
        self.signal_check_interval = _interval('signal_check_interval',
                                               signal_check_interval)
        self.digits = digits
        self._handles: List = []
        self._sums: Dict[str, float] = {}
        self._count = 0
        self._train: Dict[str, torch.Tensor] = {}
        self._check_inputs: Optional[torch.Tensor] = None
        self._twin: Optional[nn.Module] = None

    @staticmethod
    def _model(runner: Runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _neck(self, runner: Runner) -> Optional[nn.Module]:
        model = self._model(runner)
        neck = getattr(model, 'neck', None) if getattr(model, 'with_neck', False) else None
        return neck if hasattr(neck, 'diagnostics') else None

    def _remove_handles(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # training ----------------------------------------------------------------------------
    @staticmethod
    def _due(every: int, iteration: int) -> bool:
        return bool(every) and iteration % every == 0

    def before_train_iter(self, runner: Runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self._train, self._check_inputs = {}, None
        neck = self._neck(runner)
        if neck is None:
            return
        model = self._model(runner)
        if self._due(self.interval, runner.iter):

            def statistics(module, args, output) -> None:
                with torch.no_grad():
                    self._train.update(module.diagnostics(*args))

            self._handles.append(neck.register_forward_hook(statistics))
            if self.grad_share:
                self._handles.append(model.register_forward_hook(self._share,
                                                                 with_kwargs=True))
        if self._due(self.signal_check_interval, runner.iter):

            def keep_inputs(module, args, kwargs) -> None:
                inputs = args[0] if args else kwargs['inputs']
                self._check_inputs = inputs[:2].detach()

            self._handles.append(model.register_forward_pre_hook(keep_inputs,
                                                                 with_kwargs=True))

    def _share(self, model: nn.Module, args: tuple, kwargs: dict, losses) -> None:
        """Forward hook of the segmentor: the gradient share from the step's losses."""
        if kwargs.get('mode') != 'loss' or not isinstance(losses, dict):
            return
        share = adapter_gradient_share(model, losses)
        if share is not None:
            self._train['rga_rec_grad_share'] = share

    def after_train_iter(self, runner: Runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        self._remove_handles()
        if self._check_inputs is not None:
            self._train['rga_s_corr'] = torch.tensor(self._signal_check(runner))
            self._check_inputs = None
        for key, value in self._train.items():
            runner.message_hub.update_scalar(f'train/{key}', float(value))
        self._train = {}

    def _signal_check(self, runner: Runner) -> float:
        """``rga_s_corr`` on the kept inputs, with the twin made once and kept on the CPU."""
        model = self._model(runner)
        device = self._check_inputs.device
        if self._twin is None:
            self._twin = float64_twin(model).cpu()
        twin = self._twin.to(device)
        try:
            twin.load_state_dict(model.state_dict())
            return rga_signal_check(model, self._check_inputs, reference=twin)
        finally:
            self._twin = twin.cpu()

    # validation and test -----------------------------------------------------------------
    def _start(self, runner: Runner) -> None:
        self._sums, self._count = {}, 0
        neck = self._neck(runner)
        if neck is None:
            return

        def record(module, args, output) -> None:
            with torch.no_grad():
                stats = module.diagnostics(*args)
            for key, value in stats.items():
                self._sums[key] = self._sums.get(key, 0.0) + float(value)
            self._count += 1

        self._handles.append(neck.register_forward_hook(record))

    def _finish(self, runner: Runner, mode: str) -> None:
        self._remove_handles()
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
