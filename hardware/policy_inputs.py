"""The policy's view of the robot: a robot observation becomes the policy's raw input, a predicted chunk
becomes joint goals. Shared by the in-thread and the worker-process inference (same code, same actions).

Cameras are matched by name (else in order) and resized to the policy's image size, the state is the
joints in order (padded or cut to the policy's state size), and actions are cut or padded to the robot's
joints; each mismatch is described once in `notes` (the runner logs them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class ObservationAdapter:
    """Robot observation dict -> the policy's raw input dict (a batch of one, torch tensors)."""

    def __init__(self, config, joints: list[str], cameras: list[str]):
        features = config.input_features
        self.image_keys = [k for k in features if k.startswith("observation.images.")]
        self.state_dim = features["observation.state"].shape[0] if "observation.state" in features else 0
        self.action_dim = config.output_features["action"].shape[0]
        self.joints = list(joints)
        self.camera_of = {}
        for i, key in enumerate(self.image_keys):
            name = key.removeprefix("observation.images.")
            if name in cameras:
                self.camera_of[key] = name
            elif i < len(cameras):
                self.camera_of[key] = cameras[i]
            else:
                raise ValueError(f"the policy needs camera '{name}' ({key}) but the robot has only {list(cameras)}")
        self.image_size = {k: tuple(features[k].shape[1:]) for k in self.image_keys}
        self.notes: list[str] = []
        if self.state_dim and self.state_dim != len(joints):
            self.notes.append(f"state of {self.state_dim} values from {len(joints)} joints (zero-padded or cut)")
        if self.action_dim != len(joints):
            self.notes.append(f"{self.action_dim} actions for {len(joints)} joints (the first ones are used)")
        renamed = {k: v for k, v in self.camera_of.items() if not k.endswith("." + v)}
        if renamed:
            self.notes.append(f"cameras matched by order: {renamed}")

    def __call__(self, obs: Mapping) -> dict:
        import cv2
        import torch

        batch = {}
        if self.state_dim:
            state = np.zeros(self.state_dim, dtype=np.float32)
            values = np.asarray([obs[f"{j}.pos"] for j in self.joints], dtype=np.float32)[: self.state_dim]
            state[: len(values)] = values
            batch["observation.state"] = torch.from_numpy(state)[None]
        for key, camera in self.camera_of.items():
            frame = obs[camera]
            h, w = self.image_size[key]
            if frame.shape[:2] != (h, w):
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            batch[key] = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float().div_(255)
        return batch

    def actions(self, chunk: np.ndarray) -> np.ndarray:
        """(H, action_dim) -> (H, joints)."""
        out = np.zeros((chunk.shape[0], len(self.joints)), dtype=np.float64)
        n = min(chunk.shape[1], len(self.joints))
        out[:, :n] = chunk[:, :n]
        return out


def predict_joint_chunk(policy, adapter: ObservationAdapter, obs: Mapping, *, task: str | None,
                        actions_per_chunk: int) -> np.ndarray:
    """One observation -> the next `actions_per_chunk` joint goals, (n, joints) float64."""
    from lerobot_fn import policies

    batch = adapter(obs)
    if task is not None:
        batch["task"] = [task]
    chunk = policies.predict_chunk(policy, batch)[0].cpu().numpy()
    return adapter.actions(chunk)[:actions_per_chunk]


def chunk_lengths(config, actions_per_chunk: int | None) -> tuple[int, int]:
    """(the policy's chunk size, how many of its actions play): n_action_steps unless told otherwise."""
    chunk_size = int(getattr(config, "chunk_size", None) or getattr(config, "horizon", 1))
    return chunk_size, int(actions_per_chunk or getattr(config, "n_action_steps", chunk_size))
