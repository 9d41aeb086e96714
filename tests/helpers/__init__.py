"""What several test modules share: a reference SAM with random weights, tiny DADF configs
and batches, a toy mmengine runner, the tools run as subprocesses, a crash hook."""
