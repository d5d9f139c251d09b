"""lerobot_fn.process"""
