"""lerobot_fn.specs"""
