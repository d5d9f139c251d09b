"""Conditional 1-D UNet with FiLM (Diffusion Policy's noise/sample predictor).

The action trajectory (B, T, A) is convolved over time; every residual block is modulated
(FiLM: per-channel scale and bias, or bias only) by [timestep embedding, global observation
conditioning]. Module names match LeRobot's `DiffusionConditionalUnet1d` for strict loading.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .config import Config


class SinusoidalPosEmb(nn.Module):
    """Timestep -> [sin(t w_i), cos(t w_i)] with w_i = 10000^(-i / (dim/2 - 1))."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=x.device) * -(math.log(10000) / (half - 1)))
        emb = x.unsqueeze(-1) * freqs.unsqueeze(0)
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class Conv1dBlock(nn.Module):
    """Conv1d -> GroupNorm -> Mish."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, n_groups: int = 8):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.GroupNorm(n_groups, out_channels),
            nn.Mish(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class ConditionalResidualBlock1d(nn.Module):
    """conv -> FiLM(cond) -> conv, plus a (1x1-projected) residual."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        kernel_size: int = 3,
        n_groups: int = 8,
        use_film_scale_modulation: bool = False,
    ):
        super().__init__()
        self.use_film_scale_modulation = use_film_scale_modulation
        self.out_channels = out_channels
        self.conv1 = Conv1dBlock(in_channels, out_channels, kernel_size, n_groups=n_groups)
        cond_channels = out_channels * 2 if use_film_scale_modulation else out_channels
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, cond_channels))
        self.conv2 = Conv1dBlock(out_channels, out_channels, kernel_size, n_groups=n_groups)
        self.residual_conv = (
            nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        )

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        # x: (B, C_in, T), cond: (B, cond_dim) -> (B, C_out, T)
        out = self.conv1(x)
        film = self.cond_encoder(cond).unsqueeze(-1)  # (B, C_out or 2*C_out, 1)
        if self.use_film_scale_modulation:
            out = film[:, : self.out_channels] * out + film[:, self.out_channels :]
        else:
            out = out + film
        return self.conv2(out) + self.residual_conv(x)


class ConditionalUnet1d(nn.Module):
    """Encoder (down_dims, halving T), two middle blocks, decoder with skip connections."""

    def __init__(self, config: Config, global_cond_dim: int):
        super().__init__()
        self.gradient_checkpointing = config.gradient_checkpointing
        action_dim = config.action_feature.shape[0]
        embed = config.diffusion_step_embed_dim
        self.diffusion_step_encoder = nn.Sequential(
            SinusoidalPosEmb(embed), nn.Linear(embed, embed * 4), nn.Mish(), nn.Linear(embed * 4, embed)
        )
        block_kwargs = {
            "cond_dim": embed + global_cond_dim,
            "kernel_size": config.kernel_size,
            "n_groups": config.n_groups,
            "use_film_scale_modulation": config.use_film_scale_modulation,
        }
        dims = config.down_dims
        in_out = [(action_dim, dims[0])] + list(itertools.pairwise(dims))

        self.down_modules = nn.ModuleList()
        for i, (d_in, d_out) in enumerate(in_out):
            last = i == len(in_out) - 1
            self.down_modules.append(
                nn.ModuleList(
                    [
                        ConditionalResidualBlock1d(d_in, d_out, **block_kwargs),
                        ConditionalResidualBlock1d(d_out, d_out, **block_kwargs),
                        nn.Conv1d(d_out, d_out, 3, 2, 1) if not last else nn.Identity(),  # T -> T/2
                    ]
                )
            )
        self.mid_modules = nn.ModuleList(
            [ConditionalResidualBlock1d(dims[-1], dims[-1], **block_kwargs) for _ in range(2)]
        )
        self.up_modules = nn.ModuleList()
        for i, (d_out, d_in) in enumerate(reversed(in_out[1:])):
            last = i >= len(in_out) - 1  # as LeRobot: never true, every decoder stage upsamples
            self.up_modules.append(
                nn.ModuleList(
                    [
                        ConditionalResidualBlock1d(d_in * 2, d_out, **block_kwargs),  # * 2: skip concat
                        ConditionalResidualBlock1d(d_out, d_out, **block_kwargs),
                        nn.ConvTranspose1d(d_out, d_out, 4, 2, 1) if not last else nn.Identity(),  # T -> 2T
                    ]
                )
            )
        self.final_conv = nn.Sequential(
            Conv1dBlock(dims[0], dims[0], kernel_size=config.kernel_size),
            nn.Conv1d(dims[0], action_dim, 1),
        )

    def _block(self, block: nn.Module, x: Tensor, cond: Tensor) -> Tensor:
        if self.gradient_checkpointing and self.training:
            return checkpoint(block, x, cond, use_reentrant=False)
        return block(x, cond)

    def forward(self, x: Tensor, timestep: Tensor, global_cond: Tensor | None = None) -> Tensor:
        # x: (B, T, A), timestep: (B,) long, global_cond: (B, G) -> (B, T, A)
        x = x.transpose(1, 2)  # (B, A, T)
        cond = self.diffusion_step_encoder(timestep)  # (B, embed)
        if global_cond is not None:
            cond = torch.cat([cond, global_cond], dim=-1)  # (B, embed + G)
        skips: list[Tensor] = []
        for res1, res2, down in self.down_modules:
            x = self._block(res2, self._block(res1, x, cond), cond)
            skips.append(x)
            x = down(x)
        for mid in self.mid_modules:
            x = self._block(mid, x, cond)
        for res1, res2, up in self.up_modules:
            x = torch.cat((x, skips.pop()), dim=1)
            x = up(self._block(res2, self._block(res1, x, cond), cond))
        return self.final_conv(x).transpose(1, 2)  # (B, T, A)
