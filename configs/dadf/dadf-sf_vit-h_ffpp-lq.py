# Scale-free RGA (see dadf-sf_vit-h_ffpp-hq.py) on FF++ LQ (c40).
_base_ = ['./dadf_vit-h_ffpp-lq.py']
model = dict(neck=dict(s_norm='image'))
