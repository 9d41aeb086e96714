# RGA ablation on the CPU demo: no RGA (no noisy view, no L_rec).
_base_ = ['../../dadf_sam-tiny_synthetic-demo.py']
model = dict(neck=None)
