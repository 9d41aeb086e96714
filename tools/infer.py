"""Run a trained DADF model on an image, a folder, or a video.

    python tools/infer.py CONFIG CHECKPOINT face.png --out out/
    python tools/infer.py CONFIG CHECKPOINT photos/ --out out/ --detect-faces
    python tools/infer.py CONFIG CHECKPOINT clip.mp4 --out out/ --num-frames 32

Writes, per image (or video frame), at the input's size:

- ``overlays/<name>.png``: the forged region in red and a banner with the fake
  probability and the decision;
- ``heatmaps/<name>.png``: the per-pixel fake probability (JET colours) on the picture;
- ``masks/<name>.png``: the binary mask, 8-bit, 255 forged / 0 not (empty for a face
  judged real);
- ``probability_maps/<name>.png``: the per-pixel fake probability, 16-bit grey,
  ``value / 65535`` (``dadf_mm.apis.inference.read_probability_map`` reads it);
- one JSON line in ``predictions.jsonl``: input, the four files, fake probability,
  decision, forged area, face box.

A video adds a line with its score (the mean of its frames' scores), its decision and its
per-frame curve (``frames``: frame index and score). ``<name>`` is the input's file name
with its extension (``face.jpg.png``), and ``clip.mp4.frame000012`` for a frame, so no two
inputs share a file. Runs on the GPU when there is one (``--device``).
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
from tqdm import tqdm

import dadf_mm  # noqa: F401
from dadf_mm.apis.inference import (
    VIDEO_SUFFIXES,
    ForgeryInferencer,
    VideoPrediction,
    decided_mask,
    default_device,
    list_inputs,
    output_name,
    paste_into,
    render,
    write_mask,
    write_picture,
    write_probability_map,
)
from dadf_mm.engine import read_checkpoint
from dadf_mm.preprocessing import build_face_detector

from tool_setup import add_config_arguments, building, run_tool

#: JSON key -> folder of each input's output files
OUTPUTS = dict(overlay='overlays', heatmap='heatmaps', mask='masks',
               probability_map='probability_maps')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='DADF forgery inference')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='an image, a video, or a folder of them')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--device', default=default_device(),
                        help="'cpu', 'cuda', 'cuda:1' ... (default: cuda when available)")
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='fake-probability threshold of the decision')
    parser.add_argument('--detect-faces', action='store_true',
                        help='crop the largest face of each image first (videos always do)')
    parser.add_argument('--detector', default=None,
                        help='face detector factory as module:function (default: OpenCV Haar)')
    parser.add_argument('--margin', type=float, default=1.3, help='face crop margin')
    parser.add_argument('--num-frames', type=int, default=32,
                        help='evenly spaced frames per video')
    parser.add_argument('--batch-size', type=int, default=4)
    add_config_arguments(parser, checkpoint=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            sys.exit(f'infer.py: {what} file {path!r} not found')
    read_checkpoint(args.checkpoint)  # empty, truncated or refused: one line, before any work
    try:
        inputs = list_inputs(args.input)
    except FileNotFoundError as err:
        sys.exit(f'infer.py: {err}')
    if not inputs:
        sys.exit(f'infer.py: no images or videos in {args.input}')
    inferencer = building(f'building the model of {args.config}', lambda: ForgeryInferencer(
        args.config, args.checkpoint, device=args.device, threshold=args.threshold,
        batch_size=args.batch_size, cfg_options=args.cfg_options,
        allow_partial_checkpoint=args.allow_partial_checkpoint,
        allow_new_keys=args.allow_new_keys))
    for sub in OUTPUTS.values():  # only once the model loaded: a refused run
        os.makedirs(osp.join(args.out, sub), exist_ok=True)  # leaves --out as it was
    detector = build_face_detector(args.detector)
    failed = 0
    with open(osp.join(args.out, 'predictions.jsonl'), 'w') as lines:

        def emit(record: dict) -> None:
            lines.write(json.dumps(record) + '\n')
            lines.flush()

        def save(name: str, image, pred) -> dict:
            overlay, heat = render(image, pred, args.threshold)
            prob = paste_into(image.shape, pred)  # the face's map placed in the picture
            files = {key: osp.join(sub, f'{name}.png') for key, sub in OUTPUTS.items()}
            write_picture(osp.join(args.out, files['overlay']), overlay)
            write_picture(osp.join(args.out, files['heatmap']), heat)
            write_mask(osp.join(args.out, files['mask']), decided_mask(prob, pred.is_fake))
            write_probability_map(osp.join(args.out, files['probability_map']), prob)
            return dict(**files, fake_probability=round(pred.fake_probability, 6),
                        is_fake=pred.is_fake, forged_area=round(pred.forged_area, 6),
                        face_box=list(pred.box) if pred.box else None)

        for path in tqdm(inputs, desc='infer', unit='file'):
            try:
                if path.lower().endswith(VIDEO_SUFFIXES):
                    preds = inferencer.predict_video(path, num_frames=args.num_frames,
                                                     detector=detector, margin=args.margin)
                    for pred in preds:
                        frame = pred.info['frame']
                        emit(dict(input=path, frame=frame,
                                  **save(output_name(path, frame), pred.info['frame_image'],
                                         pred)))
                    video = VideoPrediction.from_frames(path, preds, args.threshold)
                    emit(dict(input=path, video=True, frames=len(preds),
                              fake_probability=round(video.fake_probability, 6),
                              is_fake=video.is_fake,
                              curve=[dict(frame=f, fake_probability=round(p, 6)) for f, p
                                     in zip(video.frame_indices, video.frame_scores)]))
                else:
                    image = cv2.imread(path, cv2.IMREAD_COLOR)
                    if image is None:
                        raise ValueError(f'unreadable image {path} (not an image file, or '
                                         'corrupt)')
                    pred = inferencer.predict_image(image, path, detect_faces=args.detect_faces,
                                                    detector=detector, margin=args.margin)
                    emit(dict(input=path, **save(output_name(path), image, pred)))
            except Exception as err:  # one bad input must not lose the others
                failed += 1
                emit(dict(input=path, error=str(err)))
                print(f'infer.py: {path}: {err}', file=sys.stderr)
    print(f'{len(inputs) - failed} of {len(inputs)} inputs done; results in {args.out}')
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    run_tool(main, 'infer.py')
