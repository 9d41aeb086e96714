# Paper Table 6: L_rec computed on fake samples instead of real ones.
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(neck=dict(loss_rec=dict(samples='fake')))
