# RGA ablation on the harder synthetic case: no RGA (no noisy view, no L_rec).
_base_ = ['../../dadf_sam-tiny_synthetic-hard.py']
model = dict(neck=None)
