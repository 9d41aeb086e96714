# Cross-dataset test as DeepfakeBench runs it: a model trained on FF++ c23 (HQ) with
# dadf_vit-h_ffpp-hq.py, tested on FaceShifter (the FF++ c23 test split). Detection only
# (FF++ ships no FaceShifter masks): AUC, EER, ACC per frame and per video.
#   python tools/dataset_converters/ffpp.py /path/to/FaceForensics++ data/ffpp \
#       --methods FaceShifter --compression c23
#   python tools/test.py configs/dadf/dadf_vit-h_ffpp-hq_test-faceshifter.py CHECKPOINT
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/cross_dataset_tests.py']
test_dataloader = dict(dataset={{_base_.faceshifter_test}})
test_evaluator = {{_base_.cross_test_evaluator}}
