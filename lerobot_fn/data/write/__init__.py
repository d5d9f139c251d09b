"""Writing a LeRobotDataset v3.0: frame validation, the episode writer, video encoding (in a
separate process, below the recording process's priority) and crash recovery on resume.

Nothing is imported here: `lerobot_fn.data` re-exports the public names.
"""
