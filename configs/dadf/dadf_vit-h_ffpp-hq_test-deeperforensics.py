# Cross-dataset test as DeepfakeBench runs it: a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py, tested on DeeperForensics-1.0 (its test list). Detection only (no
# masks): AUC, EER, ACC per frame and per video.
#   python tools/dataset_converters/deeperforensics.py /path/to/DeeperForensics-1.0 \
#       data/deeperforensics --ffpp-root /path/to/FaceForensics++
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-deeperforensics.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.deeperforensics_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
