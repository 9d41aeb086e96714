# Cross-dataset test sets (paper Table 3): detection only, no masks. Made by
#   python tools/dataset_converters/dfd.py /path/to/FaceForensics++ data/dfd --compression c40
#   python tools/dataset_converters/dftimit.py /path/to/DeepfakeTIMIT data/dftimit
cross_test_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
dfd_test = dict(_delete_=True, type='DFDDataset', data_root='data/dfd', compression='c40',
                pipeline=cross_test_pipeline)
dftimit_hq_test = dict(_delete_=True, type='DFTIMITDataset', data_root='data/dftimit', quality='hq',
                       pipeline=cross_test_pipeline)
dftimit_lq_test = dict(_delete_=True, type='DFTIMITDataset', data_root='data/dftimit', quality='lq',
                       pipeline=cross_test_pipeline)
cross_test_evaluator = dict(_delete_=True, type='ForgeryMetric', localization=False)
