"""Stateful hardware shells: motors, robots, teleoperators, cameras. Depends on lerobot_fn, never the reverse."""
