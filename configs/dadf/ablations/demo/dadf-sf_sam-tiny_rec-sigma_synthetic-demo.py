# RGA ablation on the CPU demo: the scale-free RGA with L_rec in units of sigma (O(1), not
# O(sigma)). Measured: it collapses the demo's encoder, which learns to make F insensitive
# to the noise (S / |F| falls 17x) instead of detecting forgeries (docs/rga.md).
_base_ = ['./dadf-sf_sam-tiny_synthetic-demo.py']
model = dict(neck=dict(loss_rec=dict(units='sigma')))
