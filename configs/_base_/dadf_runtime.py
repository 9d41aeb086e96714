# mmseg's runtime plus this project's: the plugin import, TensorBoard next to local logs.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['dadf_mm'], allow_failed_imports=False)
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer',
                  alpha=0.5)
randomness = dict(seed=0)
log_processor = dict(by_epoch=True)  # the paper schedules count epochs
# RGA's diagnostics averaged over every validation and test run, logged with the metrics
custom_hooks = [dict(type='RGADiagnosticsHook')]
