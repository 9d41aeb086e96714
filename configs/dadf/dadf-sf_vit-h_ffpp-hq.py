# DADF with the scale-free RGA (README, "RGA's scale"): S normalised per image, L_rec in
# units of sigma; otherwise dadf_vit-h_ffpp-hq.py. The attention no longer depends on
# sigma, so it can steer (the paper's formulation gives alpha = 1 to O(sigma)).
_base_ = ['./dadf_vit-h_ffpp-hq.py']
model = dict(neck=dict(s_norm='image', rec_units='sigma'))
