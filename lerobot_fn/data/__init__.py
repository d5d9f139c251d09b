"""lerobot_fn.data"""
