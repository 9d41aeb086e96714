# Cross-dataset test sets: one `<name>_test` dataset dict per prepared test set and
# `cross_datasets`, their names in table order (tools/analysis_tools/cross_dataset.py reads
# this file). All detection only: none of them ships forgery masks (FaceShifter neither).
# Each is made by its converter (docs/cross_dataset.md), e.g.
#   python tools/dataset_converters/dfd.py /path/to/FaceForensics++ data/dfd --compression c40
#   python tools/dataset_converters/dftimit.py /path/to/DeepfakeTIMIT data/dftimit
#   python tools/dataset_converters/celebdf.py /path/to/Celeb-DF-v2 data/celebdf --version v2
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
celebdf_v1_test = dict(_delete_=True, type='CelebDFDataset', data_root='data/celebdf', version='v1',
                       split='test', pipeline=cross_test_pipeline)
celebdf_v2_test = dict(_delete_=True, type='CelebDFDataset', data_root='data/celebdf', version='v2',
                       split='test', pipeline=cross_test_pipeline)
dfdc_test = dict(_delete_=True, type='DFDCDataset', data_root='data/dfdc', split='test',
                 pipeline=cross_test_pipeline)
dfdcp_test = dict(_delete_=True, type='DFDCPreviewDataset', data_root='data/dfdcp', split='test',
                  pipeline=cross_test_pipeline)
deeperforensics_test = dict(_delete_=True, type='DeeperForensicsDataset',
                            data_root='data/deeperforensics', split='test',
                            pipeline=cross_test_pipeline)
faceshifter_test = dict(_delete_=True, type='FFPPDataset', data_root='data/ffpp',
                        methods=('FaceShifter', ), compression='c23', split='test',
                        with_masks=False, pipeline=cross_test_pipeline)
uadfv_test = dict(_delete_=True, type='UADFVDataset', data_root='data/uadfv',
                  pipeline=cross_test_pipeline)
wilddeepfake_test = dict(_delete_=True, type='WildDeepfakeDataset', data_root='data/wilddeepfake',
                         split='test', pipeline=cross_test_pipeline)
cross_datasets = ['dfd', 'dftimit_hq', 'dftimit_lq', 'celebdf_v1', 'celebdf_v2', 'dfdc', 'dfdcp',
                  'deeperforensics', 'faceshifter', 'uadfv', 'wilddeepfake']
cross_test_evaluator = dict(_delete_=True, type='ForgeryMetric', localization=False)
