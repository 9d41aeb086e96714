# The harder synthetic case of the RGA ablation: the demo's model and schedule on forgeries
# with half the demo's colour change and a low-level trace that a noise-sensitive detector
# could read. Every view (real or fake) carries a sensor-like noise (3 grey levels) and is
# JPEG-compressed at quality 90 at the end; each fake's blended copy is offset by 20-40
# grey levels (the demo: 30-60) and carries one trace: resampled (its noise and detail
# smoothed away), re-compressed at JPEG quality 10-30, or extra noise of 4-8 grey levels
# (dadf_mm/datasets/transforms/self_blend.py: add_trace). Without the colour change
# (offsets 4-12) nothing here learns in 600 iterations from random weights.
#   python tools/train.py configs/dadf/dadf_sam-tiny_synthetic-hard.py
_base_ = ['./dadf_sam-tiny_synthetic-demo.py']
hard_forgery = dict(offset_range=(20.0, 40.0), traces=('resample', 'recompress', 'noise'),
                    noise_std=3.0, jpeg_quality=90)
train_dataloader = dict(dataset=hard_forgery)
val_dataloader = dict(dataset=hard_forgery)
test_dataloader = dict(dataset=hard_forgery)
