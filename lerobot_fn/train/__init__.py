"""lerobot_fn.train"""
