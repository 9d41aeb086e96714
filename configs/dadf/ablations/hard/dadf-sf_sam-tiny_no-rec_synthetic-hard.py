# RGA ablation on the harder synthetic case: the scale-free RGA without L_rec.
_base_ = ['./dadf-sf_sam-tiny_synthetic-hard.py']
model = dict(neck=dict(loss_rec=dict(loss_weight=0.0)))
