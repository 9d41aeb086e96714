"""RGADiagnosticsHook: RGA's statistics averaged over a test run, in the message hub."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmseg.registry import MODELS

from dadf_mm.engine import RGADiagnosticsHook
from tests.helpers.model_cases import batch, tiny_dadf_cfg


def test_means_over_the_batches_reach_the_message_hub(tiny_sam_checkpoint):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(tiny_sam_checkpoint,
                                       neck=dict(type='RGANeck', s_norm='image')))
    model.init_weights()
    with torch.no_grad():
        model.neck.enhancer.weight.normal_(std=0.05)
    model.eval()
    hub = MessageHub.get_instance('rga_hook_test')
    runner = SimpleNamespace(model=model, message_hub=hub,
                             logger=MMLogger.get_instance('rga_hook_test'))
    hook = RGADiagnosticsHook()
    hook.before_test_epoch(runner)
    expected = []
    for seed in (0, 1):
        inputs, samples = batch()
        inputs = inputs + seed  # two different batches
        with torch.no_grad():
            model.predict(inputs, samples)
            feat, diff = model.encode(inputs, [s.metainfo for s in samples])
        expected.append(model.neck.diagnostics(feat, diff))
    hook.after_test_epoch(runner)
    for key in expected[0]:
        mean = (float(expected[0][key]) + float(expected[1][key])) / 2
        assert hub.get_scalar(f'test/{key}').current() == pytest.approx(mean, rel=1e-5)
    # the forward hook is gone: another forward adds nothing
    before = hub.get_scalar('test/rga_alpha_std').current()
    with torch.no_grad():
        model.predict(*batch())
    assert hub.get_scalar('test/rga_alpha_std').current() == before


# training --------------------------------------------------------------------------------------
def build_trained_pair(checkpoint, **neck):
    from mmengine.optim import build_optim_wrapper

    from tests.helpers.model_cases import activate
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(checkpoint, neck=dict(type='RGANeck', **neck)))
    model.init_weights()
    activate(model)
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    return model, wrapper


def test_training_with_every_diagnostic_on_is_bit_identical_to_training_without(
        tiny_sam_checkpoint):
    """Statistics, gradient share and float64 signal check on every iteration: the losses,
    the weights, the noise step counter, the BatchNorm statistics and the global RNG are
    those of the run without the hook's measurements."""
    from tests.helpers.model_cases import hooked_train_steps
    inputs, samples = batch()
    runs = []
    for hook in (RGADiagnosticsHook(interval=0),
                 RGADiagnosticsHook(interval=1, grad_share=True, signal_check_interval=1)):
        model, wrapper = build_trained_pair(tiny_sam_checkpoint)
        torch.manual_seed(1)
        losses, logged = hooked_train_steps(model, wrapper, hook, iters=3, inputs=inputs,
                                            samples=samples)
        runs.append((losses, logged, model.state_dict(), torch.get_rng_state()))
    (loss_off, logged_off, state_off, rng_off), (loss_on, logged_on, state_on, rng_on) = runs
    assert not any(logged_off)
    assert all({'rga_alpha_std', 'rga_rec_grad_share', 'rga_s_corr'} <= set(step)
               for step in logged_on)
    assert loss_on == loss_off
    assert state_on.keys() == state_off.keys()
    for key in state_off:  # weights, noise_step, BatchNorm statistics
        assert torch.equal(state_on[key], state_off[key]), key
    assert int(state_on['noise_step']) == 3
    assert torch.equal(rng_on, rng_off)


def test_statistics_are_read_from_the_training_step_itself(tiny_sam_checkpoint):
    """The logged statistics are the neck's diagnostics of the step's own F and D (the
    noise of that step), and the hook adds no forward pass of the model."""
    from tests.helpers.model_cases import hooked_train_steps
    model, wrapper = build_trained_pair(tiny_sam_checkpoint, s_norm='image')
    inputs, samples = batch()
    seen = []
    model.neck.register_forward_hook(lambda m, args, out: seen.append(
        {k: float(v) for k, v in m.diagnostics(*args).items()}))
    calls = []
    model.backbone.register_forward_hook(lambda *a: calls.append(1))
    _, logged = hooked_train_steps(model, wrapper, RGADiagnosticsHook(interval=1), iters=2,
                                   inputs=inputs, samples=samples)
    assert len(calls) == 2 and len(seen) == 2  # one encoder and one neck call per step
    for step, expected in zip(logged, seen):
        for key, value in expected.items():
            assert step[key] == pytest.approx(value, rel=1e-6), key


def test_bad_intervals_are_refused_by_name():
    with pytest.raises(ValueError, match='RGADiagnosticsHook signal_check_interval'):
        RGADiagnosticsHook(signal_check_interval=-1)
    with pytest.raises(ValueError, match='RGADiagnosticsHook interval'):
        RGADiagnosticsHook(interval=2.5)


def _demo_runner(work_dir, *, max_iters, resume=False):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from tests.helpers.tool_runs import DEMO
    cfg = Config.fromfile(DEMO)
    cfg.work_dir = str(work_dir)
    cfg.resume = resume
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.param_scheduler = []
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.num_samples = 8
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(by_epoch=False)
    cfg.custom_hooks = [dict(type='RGADiagnosticsHook', interval=3),
                        dict(type='DiagnosticIterations')]
    return Runner.from_cfg(cfg)


def test_a_resumed_run_logs_diagnostics_at_the_iterations_of_the_uninterrupted_run(tmp_path):
    """The hook counts ``runner.iter``: resumed at iteration 2, a run logs at iteration 3
    as the uninterrupted run does (a counter of its own would restart at 0 and log at
    iterations 2 and 5)."""
    from mmengine.hooks import Hook
    from mmseg.registry import HOOKS

    logged = []

    @HOOKS.register_module(name='DiagnosticIterations', force=True)
    class DiagnosticIterations(Hook):
        priority = 'LOW'  # after RGADiagnosticsHook

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            buffer = runner.message_hub.log_scalars.get('train/rga_alpha_std')
            count = len(buffer.data[0]) if buffer is not None else 0
            if count != getattr(self, 'count', count if runner.iter else 0):
                logged.append(runner.iter)
            self.count = count

    _demo_runner(tmp_path / 'whole', max_iters=6).train()
    whole = list(logged)
    logged.clear()
    _demo_runner(tmp_path / 'cut', max_iters=2).train()
    first = list(logged)
    logged.clear()
    _demo_runner(tmp_path / 'cut', max_iters=6, resume=True).train()
    assert whole == [0, 3]
    assert first + logged == whole
