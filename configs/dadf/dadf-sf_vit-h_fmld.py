# Scale-free RGA (see dadf-sf_vit-h_ffpp-hq.py) on FMLD.
_base_ = ['./dadf_vit-h_fmld.py']
model = dict(neck=dict(s_norm='image'))
