# The harder synthetic case of the RGA ablation: the demo's model and schedule on forgeries
# that are weak in colour and strong in the image's noise. Every view (real or fake) has a
# sensor-like noise (3 grey levels) and is JPEG-compressed at quality 90 at the end; each
# fake's blended copy changes colour by at most 3 % gain and 3 grey levels and carries one
# low-level trace: resampled (its noise smoothed away), re-compressed at JPEG quality 15-45,
# or extra noise (dadf_mm/datasets/transforms/self_blend.py: add_trace).
#   python tools/train.py configs/dadf/dadf_sam-tiny_synthetic-hard.py
_base_ = ['./dadf_sam-tiny_synthetic-demo.py']
hard_forgery = dict(offset_range=(0.0, 3.0), gain_range=(0.97, 1.03),
                    traces=('resample', 'recompress', 'noise'), noise_std=3.0, jpeg_quality=90)
train_dataloader = dict(dataset=hard_forgery)
val_dataloader = dict(dataset=hard_forgery)
test_dataloader = dict(dataset=hard_forgery)
