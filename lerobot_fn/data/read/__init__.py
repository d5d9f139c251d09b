"""Reading a LeRobotDataset v3.0: items (`reader`), delta timestamps, batches and samplers, streaming,
image transforms, concatenation, integrity checks (`verify`) and the summaries notebooks show.

Nothing is imported here: `lerobot_fn.data` re-exports the public names.
"""
