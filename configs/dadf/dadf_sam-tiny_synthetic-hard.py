# The harder synthetic case: the demo's model, schedule and forgeries (anywhere on the face,
# colour offsets of 30-60 grey levels) under the nuisances of real footage, plus a
# low-level trace in each forgery that a noise-sensitive detector could read. Every view
# (real or fake) carries a sensor-like noise (3 grey levels) and is JPEG-compressed at
# quality 90 at the end; each fake's blended copy carries one trace: resampled (its noise
# and detail smoothed away), re-compressed at JPEG quality 10-30, or extra noise of 4-8
# grey levels (dadf_mm/datasets/transforms/self_blend.py: add_trace). With half the
# colour offset (20-40 grey levels) the masks did not beat the constant disc within the
# demo's 1500 iterations (pixel IoU 15.8 against 16.1 on the validation split).
#   python tools/train.py configs/dadf/dadf_sam-tiny_synthetic-hard.py
_base_ = ['./dadf_sam-tiny_synthetic-demo.py']
hard_forgery = dict(traces=('resample', 'recompress', 'noise'), noise_std=3.0, jpeg_quality=90)
train_dataloader = dict(dataset=hard_forgery)
val_dataloader = dict(dataset=hard_forgery)
test_dataloader = dict(dataset=hard_forgery)
