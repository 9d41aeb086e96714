# Baseline "SAM" on FMLD.
_base_ = ['../dadf/dadf_vit-h_fmld.py']
model = dict(backbone=dict(adapter=None, task_head=False), neck=None)
