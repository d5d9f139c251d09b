"""lerobot_fn.robot"""
