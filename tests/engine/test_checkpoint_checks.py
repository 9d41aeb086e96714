"""Checkpoint files that are empty, truncated, refused, of another model, or missing from
where last_checkpoint says: each ends in one line naming the file, or in a fallback."""
import io
import logging
import os
import shutil

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from dadf_mm.engine import (
    CheckpointFileError,
    NonFiniteCheckpointError,
    check_checkpoint_fits,
    find_resume_checkpoint,
    first_non_finite,
    read_checkpoint,
)
from dadf_mm.models.utils.sam_checkpoint import SAMCheckpointError, load_sam_checkpoint


class _Payload:
    marker = ''

    def __reduce__(self):
        return (os.system, (f'touch {_Payload.marker}', ))


@pytest.fixture
def bad_files(tmp_path):
    """name -> path of: an empty file, a truncated checkpoint, one with a forbidden global,
    a text file."""
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.zeros(64, 64)}}, str(good))
    data = good.read_bytes()
    _Payload.marker = str(tmp_path / 'executed')
    files = dict(empty=tmp_path / 'empty.pth', truncated=tmp_path / 'truncated.pth',
                 refused=tmp_path / 'refused.pth', text=tmp_path / 'notes.pth')
    files['empty'].write_bytes(b'')
    files['truncated'].write_bytes(data[:len(data) // 2])
    torch.save({'state_dict': {}, 'meta': {'x': _Payload()}}, str(files['refused']))
    files['text'].write_text('not a checkpoint')
    return {k: str(v) for k, v in files.items()}


EXPECTED = dict(empty=['empty (0 bytes)', 'cut off'],
                truncated=['truncated or corrupt', 'bytes', 'cut off'],
                refused=['refused', 'system', 'weights-only', 'never load'],
                text=['not a torch checkpoint'])


@pytest.mark.parametrize('kind', sorted(EXPECTED))
def test_an_unreadable_checkpoint_is_one_line_naming_file_and_problem(bad_files, kind):
    with pytest.raises(CheckpointFileError) as err:
        read_checkpoint(bad_files[kind])
    message = str(err.value)
    assert bad_files[kind] in message and '\n' not in message
    for words in EXPECTED[kind]:
        assert words in message, message
    assert 'may be truncated' not in message or kind != 'refused'
    assert not os.path.exists(_Payload.marker)


@pytest.mark.parametrize('kind', sorted(EXPECTED))
def test_a_bad_sam_checkpoint_is_one_line_naming_file_and_problem(bad_files, kind):
    """Was: IndexError inside the handler (empty file); the refused global cut off."""
    with pytest.raises(SAMCheckpointError) as err:
        load_sam_checkpoint(bad_files[kind])
    message = str(err.value)
    assert message.startswith('SAM checkpoint: ') and bad_files[kind] in message
    assert '\n' not in message and all(words in message for words in EXPECTED[kind])


class _Net(nn.Module):

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.backbone = nn.Linear(width, width)
        self.decode_head = nn.Linear(width, 1)


def test_a_checkpoint_of_another_model_is_refused_with_what_it_is(tmp_path):
    sam = tmp_path / 'sam.pth'
    torch.save({'image_encoder.patch_embed.proj.weight': torch.zeros(3),
                'mask_decoder.iou_token.weight': torch.zeros(3)}, str(sam))
    with pytest.raises(CheckpointFileError) as err:
        check_checkpoint_fits(_Net(), str(sam))
    message = str(err.value)
    for words in (str(sam), '4 of the model\'s 4 keys missing', 'backbone.bias',
                  '2 unexpected', 'image_encoder.patch_embed.proj.weight',
                  'this is a SAM checkpoint', 'model.sam_checkpoint=FILE',
                  'a DADF checkpoint from tools/train.py', '--allow-partial-checkpoint'):
        assert words in message, message
    with pytest.raises(CheckpointFileError, match='no key|keys missing'):  # nothing matches
        check_checkpoint_fits(_Net(), str(sam), allow_partial=True)


def test_a_partial_or_resized_checkpoint_loads_only_when_asked(tmp_path):
    partial = tmp_path / 'partial.pth'
    state = _Net().state_dict()
    del state['decode_head.bias']
    torch.save({'meta': {}, 'state_dict': {f'module.{k}': v for k, v in state.items()}},
               str(partial))
    with pytest.raises(CheckpointFileError, match=r"1 of the model's 4 keys missing \(e.g. "
                       r'decode_head.bias'):
        check_checkpoint_fits(_Net(), str(partial))
    report = check_checkpoint_fits(_Net(), str(partial), allow_partial=True)
    assert report['missing'] == ['decode_head.bias']
    wider = tmp_path / 'wider.pth'
    torch.save({'state_dict': _Net(8).state_dict()}, str(wider))
    with pytest.raises(CheckpointFileError, match=r'3 of another shape \(backbone.bias: file '
                       r'\(8,\) vs model \(4,\)'):
        check_checkpoint_fits(_Net(), str(wider))
    full = tmp_path / 'full.pth'
    torch.save({'state_dict': _Net().state_dict()}, str(full))
    assert check_checkpoint_fits(_Net(), str(full)) == dict(missing=[], unexpected=[],
                                                            mismatched=[])


def _checkpoint(path, iteration: int) -> str:
    torch.save({'meta': {'iter': iteration}, 'state_dict': {'w': torch.ones(2)}}, str(path))
    return str(path)


def test_resume_falls_back_to_the_newest_complete_checkpoint(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    _checkpoint(work / 'iter_4.pth', 4)
    _checkpoint(work / 'iter_10.pth', 10)
    shutil.copy(work / 'iter_10.pth', work / 'iter_12.pth')
    with open(work / 'iter_12.pth', 'r+b') as f:  # cut off, as an interrupted copy leaves it
        f.truncate(100)
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_10.pth')  # no last_checkpoint
    (work / 'last_checkpoint').write_text(str(work / 'iter_14.pth'))  # names a missing file
    logger, log = MMLogger.get_current_instance(), io.StringIO()
    handler = logging.StreamHandler(log)
    logger.addHandler(handler)
    try:
        assert find_resume_checkpoint(str(work)) == str(work / 'iter_10.pth')
    finally:
        logger.removeHandler(handler)
    text = log.getvalue()
    assert 'iter_14.pth' in text and 'not found' in text and 'resuming from' in text
    assert 'skipping' in text and 'iter_12.pth' in text and 'truncated' in text
    (work / 'last_checkpoint').write_text(str(tmp_path / 'moved' / 'iter_4.pth'))
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')  # work dir moved


def test_resume_with_nothing_complete_is_one_clear_error(tmp_path):
    (tmp_path / 'iter_2.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    with pytest.raises(CheckpointFileError) as err:
        find_resume_checkpoint(str(tmp_path))
    message = str(err.value)
    for words in ('last_checkpoint names', 'iter_2.pth', 'empty (0 bytes)',
                  'no other complete checkpoint', '--resume PATH', 'without --resume'):
        assert words in message, message
    assert find_resume_checkpoint(str(tmp_path / 'fresh')) is None  # a new run starts


@pytest.mark.parametrize('value', [float('nan'), float('inf'), -float('inf')])
def test_a_checkpoint_with_non_finite_weights_is_refused_naming_the_first_key(tmp_path, value):
    state = {'backbone.a': torch.ones(3), 'backbone.b': torch.ones(2, 2),
             'neck.c': torch.full((2, ), value), 'steps': torch.tensor([1, 2])}
    state['backbone.b'][1, 0] = value
    path = str(tmp_path / 'diverged.pth')
    torch.save({'meta': {'iter': 2}, 'state_dict': state}, path)
    with pytest.raises(NonFiniteCheckpointError) as err:
        read_checkpoint(path)
    message = str(err.value)
    assert path in message and 'NaN or Inf' in message and '\n' not in message
    assert '(first in state_dict.backbone.b)' in message, message
    assert first_non_finite({'x': [torch.zeros(1), {'y': torch.tensor([value])}]}) == 'x.1.y'
    assert first_non_finite({'x': torch.zeros(2), 'n': torch.tensor([7])}) is None
    assert read_checkpoint(path, check_finite=False)['state_dict'].keys() == state.keys()


def test_a_non_finite_sam_checkpoint_is_refused(tmp_path):
    path = str(tmp_path / 'sam.pth')
    torch.save({'image_encoder.pos_embed': torch.tensor([0.0, float('nan')])}, path)
    with pytest.raises(SAMCheckpointError, match=r'NaN or Inf values \(first in '
                       r'image_encoder.pos_embed\)'):
        load_sam_checkpoint(path)


def test_a_missing_sam_checkpoint_names_the_download_tool(tmp_path):
    with pytest.raises(SAMCheckpointError) as err:
        load_sam_checkpoint(str(tmp_path / 'sam_vit_h_4b8939.pth'))
    assert 'python tools/download_sam_checkpoints.py' in str(err.value)
