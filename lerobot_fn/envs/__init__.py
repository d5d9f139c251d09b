"""lerobot_fn.envs"""
