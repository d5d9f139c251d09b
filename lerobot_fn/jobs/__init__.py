"""lerobot_fn.jobs"""
