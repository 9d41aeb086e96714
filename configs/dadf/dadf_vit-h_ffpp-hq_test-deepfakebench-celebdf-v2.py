# Cross-dataset test on DeepfakeBench's prepared Celeb-DF v2 (its dataset_json/Celeb-DF-v2.json
# and frame folders, read as they are): a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py. Detection only (Celeb-DF has no masks): AUC, EER, ACC per frame and
# per video. The other DeepfakeBench sets: configs/_base_/datasets/deepfakebench_tests.py.
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-deepfakebench-celebdf-v2.py \
#       CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/deepfakebench_tests.py']
test_dataloader = dict(dataset={{_base_.celebdf_v2_test}})
test_evaluator = {{_base_.deepfakebench_test_evaluator}}
