# Baseline "SAM" on FFPP-LQ.
_base_ = ['../dadf/dadf_vit-h_ffpp-lq.py']
model = dict(backbone=dict(adapter=None, task_head=False), neck=None)
