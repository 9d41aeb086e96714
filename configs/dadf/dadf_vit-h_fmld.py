# DADF, SAM ViT-H, 1024 px, FMLD, 50 epochs: paper Table 1.
_base_ = [
    '../_base_/models/dadf_sam-vit-h.py', '../_base_/datasets/fmld.py',
    '../_base_/schedules/schedule_50e.py', '../_base_/dadf_runtime.py'
]
