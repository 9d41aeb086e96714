# Baseline "SAM" (paper Tables 1-4): SAM's encoder frozen with no adapters and no RGA; the
# mask decoder and the classification branch fine-tuned.
_base_ = ['../dadf/dadf_vit-h_ffpp-hq.py']
model = dict(backbone=dict(adapter=None, task_head=False), neck=None)
