# Without the classification branch: the image score is the mean of the top 1 % pixel
# probabilities of the predicted mask.
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(decode_head=dict(with_cls=False))
