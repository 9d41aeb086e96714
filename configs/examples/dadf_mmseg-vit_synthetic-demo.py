# DADF around a stock mmseg backbone: the demo (synthetic forgeries, 128 px, CPU) with mmseg's
# VisionTransformer in place of SAM's encoder. RGA and the mask decoder read the backbone's
# last feature map, so its channels are theirs (neck.channels, decode_head.in_channels);
# any grid works (the decoder's position encoding follows it). docs/add_a_model_part.md.
#   python tools/train.py configs/examples/dadf_mmseg-vit_synthetic-demo.py
_base_ = ['../dadf/dadf_sam-tiny_synthetic-demo.py']
channels = 256
model = dict(
    backbone=dict(
        _delete_=True,  # none of SAMViT's keys (arch, adapter, ...) carried over
        type='VisionTransformer',  # mmseg's, from its registry
        img_size=(128, 128),
        patch_size=16,
        embed_dims=channels,
        num_layers=2,
        num_heads=4,
        mlp_ratio=2,
        out_indices=(1, ),  # DADF reads the last map of the list: (B, 256, 8, 8) here
        final_norm=True),
    neck=dict(channels=channels),
    decode_head=dict(in_channels=channels))
