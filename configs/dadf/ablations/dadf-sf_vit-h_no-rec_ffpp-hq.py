# Ablation: the scale-free RGA without L_rec (its loss weight 0).
_base_ = ['../dadf-sf_vit-h_ffpp-hq.py']
model = dict(neck=dict(loss_rec=dict(loss_weight=0.0)))
