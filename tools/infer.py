"""Run a trained DADF model on an image, a folder, or a video.

    python tools/infer.py CONFIG CHECKPOINT face.png --out out/
    python tools/infer.py CONFIG CHECKPOINT photos/ --out out/ --detect-faces
    python tools/infer.py CONFIG CHECKPOINT clip.mp4 --out out/ --num-frames 32
    python tools/infer.py CONFIG WORK_DIR face.png --out out/   # its best checkpoint

CHECKPOINT is a ``.pth`` file or a training work dir (its newest ``best_*.pth``, else its
last checkpoint), as for ``tools/web_demo.py``.

Writes, per image (or video frame), at the input's size
(``dadf_mm.apis.prediction_files.PredictionFiles``, which the web page's downloads use too):

- ``overlays/<name>.png``: the forged region in red and a banner with the fake
  probability and the decision;
- ``heatmaps/<name>.png``: the per-pixel fake probability (JET colours) on the picture;
- ``masks/<name>.png``: the binary mask, 8-bit, 255 forged / 0 not (empty for a face
  judged real);
- ``probability_maps/<name>.png``: the per-pixel fake probability, 16-bit grey,
  ``value / 65535`` (``dadf_mm.apis.inference.read_probability_map`` reads it);
- one JSON line in ``predictions.jsonl``: input, the four files, fake probability,
  decision, forged area, face box.

The model is printed first and written to ``model.json``: config name, checkpoint file,
what it was trained on (from the checkpoint's meta) and, for a model trained on synthetic
data, a warning.

A video adds a line with its score (the mean of its frames' scores), its decision and its
per-frame curve (``frames``: frame index and score). ``<name>`` is the input's file name
with its extension (``face.jpg.png``), and ``clip.mp4.frame000012`` for a frame, so no two
inputs share a file. Runs on the GPU when there is one (``--device``).

A face is judged fake when its probability is above the decision threshold: ``--threshold``,
else the one calibrated on the validation set and stored in the checkpoint's meta, else 0.5;
a line printed before the inputs says which.

An image is read as the dataset reads one (a truncated JPEG is refused, not scored), and
one larger than ``--max-megapixels`` is refused before it is decoded; either ends in one
line naming the file, and the other inputs go on. A fake probability that is not a finite
number (a checkpoint of a diverged run) stops the run with one line naming the checkpoint
and the input; ``predictions.jsonl`` is strict JSON.

On a CPU with native bfloat16 the encoder runs its fast path where a start-up check on the
loaded weights keeps RGA's signal, else the exact float32 one; a line says which
(docs/inference.md). ``--exact`` runs the exact one without the check.
"""
import argparse
import sys
import time

from tqdm import tqdm

import dadf_mm  # noqa: F401
from dadf_mm.apis.cpu_path import EXACT_HELP
from dadf_mm.apis.inference import (
    VIDEO_SUFFIXES,
    ForgeryInferencer,
    NonFiniteOutputError,
    default_device,
    list_inputs,
    read_image,
)
from dadf_mm.apis.model_card import ModelCard
from dadf_mm.apis.prediction_files import PredictionFiles
from dadf_mm.preprocessing import build_face_detector

from tool_setup import (
    ToolArgumentParser,
    ToolError,
    add_config_arguments,
    add_image_limit_argument,
    building,
    config_and_checkpoint,
    device,
    one_line,
    positive_float,
    positive_int,
    probability,
    run_tool,
)


def parse_args() -> argparse.Namespace:
    parser = ToolArgumentParser(description='DADF forgery inference')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('input', help='an image, a video, or a folder of them')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--device', type=device, default=default_device(),
                        help="'cpu', 'cuda', 'cuda:1' ... (default: cuda when available)")
    parser.add_argument('--threshold', type=probability, default=None,
                        help='fake-probability threshold of the decision, 0 to 1 (default: '
                        "the one calibrated on the validation set in the checkpoint's meta, "
                        'else 0.5)')
    parser.add_argument('--detect-faces', action='store_true',
                        help='crop the largest face of each image first (videos always do)')
    parser.add_argument('--detector', default=None,
                        help="face detector: 'centerface' (default), 'haar' (OpenCV Haar "
                        "cascade) or a factory as 'module:function'")
    parser.add_argument('--margin', type=positive_float, default=1.3,
                        help='face crop side as a multiple of the face')
    parser.add_argument('--num-frames', type=positive_int, default=32,
                        help='evenly spaced frames per video')
    parser.add_argument('--batch-size', type=positive_int, default=4)
    parser.add_argument('--exact', action='store_true', help=EXACT_HELP)
    add_image_limit_argument(parser)
    add_config_arguments(parser, checkpoint=True)
    return parser.parse_args()


def peak_memory_gib() -> float:
    """The process's peak resident memory so far, in GiB (the CPU's; a GPU's is its own)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (2**30 if sys.platform == 'darwin' else 2**20)


def print_model_card(card: ModelCard) -> None:
    """Which model runs, on stdout (stderr keeps one line per refused input)."""
    for line in card.lines():
        print(line)


def main() -> None:
    args = parse_args()
    checkpoint = config_and_checkpoint(args)
    try:
        inputs = list_inputs(args.input)
    except FileNotFoundError as err:
        sys.exit(f'infer.py: {err}')
    if not inputs:
        sys.exit(f'infer.py: no images or videos in {args.input}')
    try:  # a wrong --detector: one line before the model is built
        detector = build_face_detector(args.detector)
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        raise ToolError(one_line(err)) from err
    inferencer = building(f'building the model of {args.config}', lambda: ForgeryInferencer(
        args.config, checkpoint, device=args.device, threshold=args.threshold,
        batch_size=args.batch_size, cfg_options=args.cfg_options,
        allow_partial_checkpoint=args.allow_partial_checkpoint,
        allow_new_keys=args.allow_new_keys, max_megapixels=args.max_megapixels,
        exact=args.exact))
    print_model_card(inferencer.model_card)
    print(f'infer.py: {inferencer.decision.description}')
    failed = 0
    # made only once the model loaded: a refused run leaves --out as it was
    with PredictionFiles(args.out, threshold=inferencer.threshold,
                         model_card=inferencer.model_card.as_dict()) as files:
        start = time.perf_counter()  # the inputs' time, not the model's building
        for path in tqdm(inputs, desc='infer', unit='file'):
            try:
                if path.lower().endswith(VIDEO_SUFFIXES):
                    files.add_video(path, inferencer.predict_video(
                        path, num_frames=args.num_frames, detector=detector,
                        margin=args.margin))
                else:
                    image = read_image(path, max_megapixels=args.max_megapixels)
                    files.add_image(path, image, inferencer.predict_image(
                        image, path, detect_faces=args.detect_faces, detector=detector,
                        margin=args.margin))
            except NonFiniteOutputError as err:  # the model's, not the input's: stop
                files.add_error(path, one_line(err))
                raise ToolError(one_line(err)) from err
            except Exception as err:  # one bad input must not lose the others
                failed += 1
                message = one_line(err)
                files.add_error(path, message)
                tqdm.write(f'infer.py: {message if path in message else f"{path}: {message}"}',
                           file=sys.stderr)  # a line of its own, not after the bar
    seconds = time.perf_counter() - start
    print(f'{len(inputs) - failed} of {len(inputs)} inputs done in {seconds:.1f} s '
          f'({seconds / len(inputs):.2f} s per input, peak memory {peak_memory_gib():.2f} GiB); '
          f'results in {args.out}')
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    run_tool(main, 'infer.py')
