"""Policies (ACT, Diffusion) as pure functions over TensorDict batches."""
