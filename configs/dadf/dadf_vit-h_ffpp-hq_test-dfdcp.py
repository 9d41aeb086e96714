# Cross-dataset test as DeepfakeBench runs it: a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py, tested on DFDC-Preview (the test set of its dataset.json).
# Detection only (no masks): AUC, EER, ACC per frame and per video.
#   python tools/dataset_converters/dfdcp.py /path/to/DFDC-Preview data/dfdcp
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-dfdcp.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.dfdcp_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
