# mmseg's runtime plus this project's: the plugin import, TensorBoard next to local logs.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['dadf_mm'], allow_failed_imports=False)
# pictures (validation, tools/test.py --show-dir) go to <work_dir>/<timestamp>/vis_data and
# to TensorBoard: the forged region in red under a banner with the fake score, the
# decision, the truth and RIGHT / WRONG (dadf_mm/visualization); without the tensorboard
# package the TensorBoard backend is left out with a warning
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='ForgeryVisualizer', vis_backends=vis_backends, name='visualizer',
                  alpha=0.5, threshold=0.5)
randomness = dict(seed=0)
# cuDNN benchmarking tries algorithms whose workspaces are bounded only by the free memory
# (no memory estimate can hold them); DADF's convolutions (patch embedding, neck, decoder
# upscaling) are a small part of the step, so the heuristic choice costs little
env_cfg = dict(cudnn_benchmark=False)
# the paper schedules count epochs; losses below 0.01 (RGA's loss_rec is about 1e-5) are
# written with 4 significant digits (1.234e-05), not rounded to 0.0000
log_processor = dict(type='SignificantLogProcessor', by_epoch=True)
# RGA's diagnostics: every 50 training iterations how much RGA can steer (spread and
# entropy of alpha, S over |F|; read from the step itself, no extra pass), and averaged over
# every validation and test run, logged with the metrics; grad_share=True adds the share
# of L_rec in the adapters' gradient (two extra backward passes), signal_check_interval=N
# the float64 check of S every N iterations (docs/performance.md);
# training stops at the first step whose loss (or trained weights) is NaN or Inf, before
# that step is saved, so last_checkpoint keeps naming the last finite checkpoint; the
# constant disc of the training masks (a localisation baseline) is fitted before training,
# scored beside every validation's masks and saved in every checkpoint's meta; images of a
# size SAM's encoder cannot take stop with one line naming them and the Resize that fixes
# it (other backbones are not checked); the decision threshold is chosen on every
# validation (the EER point; val_evaluator.calibration='accuracy' for the best accuracy)
# and saved in every later checkpoint's meta, where test.py, infer.py and the web page read it
custom_hooks = [dict(type='RGADiagnosticsHook', interval=50, grad_share=False,
                     signal_check_interval=0), dict(type='NonFiniteLossHook'),
                dict(type='ConstantDiscHook'), dict(type='InputSizeCheckHook'),
                dict(type='DecisionThresholdHook', rule='eer')]
