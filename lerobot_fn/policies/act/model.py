"""The Action Chunking Transformer network (Zhao et al. 2023, "Learning Fine-Grained Bimanual
Manipulation with Low-Cost Hardware"), in the paper's order:

1. CVAE encoder (training only): [CLS, joint state, action chunk] -> latent z ~ N(mu, sigma).
2. Observation encoding: ResNet feature maps of every camera (+ 2-D sinusoidal positions), joint
   state and environment state projected to tokens, together with the latent token.
3. Transformer encoder over those tokens; transformer decoder with `chunk_size` learned queries
   cross-attending to them; a linear head maps each query to one action.

Module and parameter names equal LeRobot 0.6.1's `ACTPolicy` (`model.*`), so its
`model.safetensors` loads strictly. Sequences are laid out (S, B, D) like the original code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import Tensor, nn

from lerobot_fn.process.keys import nested_key

from .config import ACTION, OBS_STATE, Config
from .resnet import build_resnet_trunk


def build_model(config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None) -> ACTPolicy:
    """The ACT network for `config`, initialised like LeRobot's (same module creation order).

    `backbone_weights`: the ResNet state dict `config.pretrained_backbone_weights` names, read by the
    shell (`data.pretrained.read_backbone_weights`); None leaves the backbone randomly initialised,
    as when a checkpoint's `model.safetensors` is loaded next and overwrites every weight anyway.
    """
    config.validate_features()
    return ACTPolicy(config, backbone_weights=backbone_weights)


def in_keys(config: Config) -> tuple[tuple[str, ...], ...]:
    """The nested batch keys ACT reads: cameras in token order, then joint and environment state."""
    state = (OBS_STATE,) if config.robot_state_feature is not None else ()
    env = (config.env_state_key,) if config.env_state_key is not None else ()
    return tuple(nested_key(k) for k in (*config.image_features, *state, *env))


class ACTPolicy(nn.Module):
    """The ACT network on a TensorDict: reads its declared `in_keys`, runs the plain-tensor `ACT`.

    Its single child `model` gives LeRobot's `model.*` state_dict prefix. `in_keys` are the nested
    keys it reads (cameras in token order, then joint and environment state; `action` and
    `action_is_pad` feed the CVAE encoder in training), `out_keys` what it produces.
    forward(batch, latent_noise=None) -> (actions (B, chunk_size, action_dim),
    (mu, log_sigma_x2) or (None, None)).
    """

    out_keys = (ACTION,)

    def __init__(self, config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None):
        super().__init__()
        self.config = config
        self.model = ACT(config, backbone_weights=backbone_weights)
        self.in_keys = in_keys(config)
        self.image_keys = self.in_keys[: len(config.image_features)]
        self.state_key = nested_key(OBS_STATE) if config.robot_state_feature is not None else None
        self.env_state_key = nested_key(config.env_state_key) if config.env_state_key is not None else None

    def forward(
        self, batch: TensorDictBase, latent_noise: Tensor | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | tuple[None, None]]:
        images = [batch.get(key) for key in self.image_keys]
        state = batch.get(self.state_key) if self.state_key is not None else None
        env_state = batch.get(self.env_state_key) if self.env_state_key is not None else None
        use_vae_encoder = self.config.use_vae and self.training and ACTION in batch
        return self.model(
            images,
            state,
            env_state,
            actions=batch.get(ACTION) if use_vae_encoder else None,
            action_is_pad=batch.get("action_is_pad") if use_vae_encoder else None,
            latent_noise=latent_noise,
        )


class ACT(nn.Module):
    """CVAE encoder + observation encoder + transformer encoder/decoder + action head."""

    def __init__(self, config: Config, *, backbone_weights: Mapping[str, Tensor] | None = None):
        super().__init__()
        self.config = config
        d = config.dim_model
        state_dim = config.robot_state_feature.shape[0] if config.robot_state_feature else None
        action_dim = config.action_feature.shape[0]

        # 1. CVAE encoder (BERT-like): tokens [cls, (joint state), *actions] -> [mu, 2 log sigma].
        if config.use_vae:
            self.vae_encoder = TransformerEncoder(config, config.n_vae_encoder_layers)
            self.vae_encoder_cls_embed = nn.Embedding(1, d)
            if state_dim is not None:
                self.vae_encoder_robot_state_input_proj = nn.Linear(state_dim, d)
            self.vae_encoder_action_input_proj = nn.Linear(action_dim, d)
            self.vae_encoder_latent_output_proj = nn.Linear(d, config.latent_dim * 2)
            n_tokens = 1 + config.chunk_size + (1 if state_dim is not None else 0)
            self.register_buffer("vae_encoder_pos_enc", sinusoidal_1d(n_tokens, d).unsqueeze(0))

        # 2. Observation encoders.
        if config.image_features:
            self.backbone = build_resnet_trunk(
                config.vision_backbone,
                dilate_last=bool(config.replace_final_stride_with_dilation),
                weights=backbone_weights,
                source=str(config.pretrained_backbone_weights),
            )

        # 3. Transformer (the CVAE decoder when training with the variational objective).
        self.encoder = TransformerEncoder(config, config.n_encoder_layers)
        self.decoder = TransformerDecoder(config)

        # Token projections, token order [latent, (joint state), (env state), *camera pixels].
        if state_dim is not None:
            self.encoder_robot_state_input_proj = nn.Linear(state_dim, d)
        if config.env_state_feature is not None:
            self.encoder_env_state_input_proj = nn.Linear(config.env_state_feature.shape[0], d)
        self.encoder_latent_input_proj = nn.Linear(config.latent_dim, d)
        if config.image_features:
            self.encoder_img_feat_input_proj = nn.Conv2d(self.backbone.out_channels, d, kernel_size=1)
        n_1d_tokens = 1 + (state_dim is not None) + (config.env_state_feature is not None)
        self.encoder_1d_feature_pos_embed = nn.Embedding(n_1d_tokens, d)
        # DETR-style learned queries, one per predicted action.
        self.decoder_pos_embed = nn.Embedding(config.chunk_size, d)
        self.action_head = nn.Linear(d, action_dim)

        for p in (*self.encoder.parameters(), *self.decoder.parameters()):
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(
        self,
        images: list[Tensor],
        state: Tensor | None,
        env_state: Tensor | None,
        *,
        actions: Tensor | None = None,
        action_is_pad: Tensor | None = None,
        latent_noise: Tensor | None = None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | tuple[None, None]]:
        """images: per camera (B, 3, H, W); state (B, S); env_state (B, E); actions (B, chunk, A).

        With `actions` (training with the VAE) the latent is sampled from the CVAE encoder using
        `latent_noise` (B, latent_dim) ~ N(0, 1); otherwise it is all zeros (inference).
        """
        cfg = self.config
        ref = images[0] if images else env_state
        batch_size = ref.shape[0]

        # 1. Latent z.
        if actions is not None:
            mu, log_sigma_x2 = self._encode_latent(state, actions, action_is_pad)
            if latent_noise is None:
                latent_noise = torch.randn_like(mu)
            latent = mu + (log_sigma_x2 / 2).exp() * latent_noise  # (B, L)
        else:
            mu = log_sigma_x2 = None
            latent = torch.zeros(batch_size, cfg.latent_dim, dtype=torch.float32, device=ref.device)

        # 2. Encoder tokens (S, B, D) and their positions (S, 1, D).
        tokens_1d = [self.encoder_latent_input_proj(latent)]
        if state is not None:
            tokens_1d.append(self.encoder_robot_state_input_proj(state))
        if env_state is not None:
            tokens_1d.append(self.encoder_env_state_input_proj(env_state))
        tokens = [torch.stack(tokens_1d, dim=0)]  # (n_1d, B, D)
        positions = [self.encoder_1d_feature_pos_embed.weight.unsqueeze(1)]  # (n_1d, 1, D)
        for features in self._camera_features(images):  # each (B, C, h, w)
            pos = sinusoidal_2d(features.shape[-2], features.shape[-1], cfg.dim_model // 2, features.device)
            proj = self.encoder_img_feat_input_proj(features)  # (B, D, h, w)
            tokens.append(proj.flatten(2).permute(2, 0, 1))  # (h*w, B, D)
            positions.append(pos.to(dtype=features.dtype).flatten(2).permute(2, 0, 1))  # (h*w, 1, D)
        tokens = torch.cat(tokens, dim=0)
        positions = torch.cat(positions, dim=0)

        # 3. Transformer encoder, decoder over chunk_size queries, action head.
        memory = self.encoder(tokens, pos_embed=positions)  # (S, B, D)
        queries = torch.zeros(
            (cfg.chunk_size, batch_size, cfg.dim_model), dtype=positions.dtype, device=positions.device
        )
        decoded = self.decoder(
            queries,
            memory,
            encoder_pos_embed=positions,
            decoder_pos_embed=self.decoder_pos_embed.weight.unsqueeze(1),
        )  # (chunk, B, D)
        return self.action_head(decoded.transpose(0, 1)), (mu, log_sigma_x2)  # (B, chunk, A)

    def _encode_latent(
        self, state: Tensor | None, actions: Tensor, action_is_pad: Tensor
    ) -> tuple[Tensor, Tensor]:
        """CVAE encoder: (B, chunk, A) actions (+ state) -> mu, log(sigma^2), each (B, latent_dim)."""
        batch_size = actions.shape[0]
        seq = [self.vae_encoder_cls_embed.weight.expand(batch_size, 1, -1)]  # (B, 1, D)
        if state is not None:
            seq.append(self.vae_encoder_robot_state_input_proj(state).unsqueeze(1))  # (B, 1, D)
        seq.append(self.vae_encoder_action_input_proj(actions))  # (B, chunk, D)
        x = torch.cat(seq, dim=1).transpose(0, 1)  # (S, B, D)
        n_prefix = len(seq) - 1
        not_padding = torch.zeros(batch_size, n_prefix, dtype=torch.bool, device=actions.device)
        key_padding_mask = torch.cat([not_padding, action_is_pad], dim=1)  # (B, S)
        pos = self.vae_encoder_pos_enc.detach().transpose(0, 1)  # (S, 1, D)
        cls_out = self.vae_encoder(x, pos_embed=pos, key_padding_mask=key_padding_mask)[0]  # (B, D)
        params = self.vae_encoder_latent_output_proj(cls_out)
        return params[:, : self.config.latent_dim], params[:, self.config.latent_dim :]

    def _camera_features(self, images: list[Tensor]) -> list[Tensor]:
        """Backbone feature maps per camera; same-shaped cameras go through in one batched call."""
        if not images:
            return []
        if len(images) > 1 and all(img.shape == images[0].shape for img in images):
            return list(self.backbone(torch.cat(images, dim=0)).chunk(len(images), dim=0))
        return [self.backbone(img) for img in images]


class TransformerEncoder(nn.Module):
    """A stack of encoder layers, followed by a LayerNorm only in the pre-norm variant."""

    def __init__(self, config: Config, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(config) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(config.dim_model) if config.pre_norm else nn.Identity()

    def forward(
        self, x: Tensor, pos_embed: Tensor | None = None, key_padding_mask: Tensor | None = None
    ) -> Tensor:
        for layer in self.layers:
            x = layer(x, pos_embed=pos_embed, key_padding_mask=key_padding_mask)
        return self.norm(x)


class EncoderLayer(nn.Module):
    """Self-attention (positions added to queries and keys only) then a feed-forward block."""

    def __init__(self, config: Config):
        super().__init__()
        d = config.dim_model
        self.self_attn = nn.MultiheadAttention(d, config.n_heads, dropout=config.dropout)
        self.linear1 = nn.Linear(d, config.dim_feedforward)
        self.dropout = nn.Dropout(config.dropout)
        self.linear2 = nn.Linear(config.dim_feedforward, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.dropout1 = nn.Dropout(config.dropout)
        self.dropout2 = nn.Dropout(config.dropout)
        self.activation = _activation(config.feedforward_activation)
        self.pre_norm = config.pre_norm

    def forward(
        self, x: Tensor, pos_embed: Tensor | None = None, key_padding_mask: Tensor | None = None
    ) -> Tensor:
        h = self.norm1(x) if self.pre_norm else x
        qk = h if pos_embed is None else h + pos_embed
        h = self.self_attn(qk, qk, value=h, key_padding_mask=key_padding_mask, need_weights=False)[0]
        x = x + self.dropout1(h)
        if not self.pre_norm:
            x = self.norm1(x)
        h = self.norm2(x) if self.pre_norm else x
        h = self.linear2(self.dropout(self.activation(self.linear1(h))))
        x = x + self.dropout2(h)
        return x if self.pre_norm else self.norm2(x)


class TransformerDecoder(nn.Module):
    """A stack of decoder layers followed by a LayerNorm."""

    def __init__(self, config: Config):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(config.n_decoder_layers)])
        self.norm = nn.LayerNorm(config.dim_model)

    def forward(
        self, x: Tensor, memory: Tensor, *, encoder_pos_embed: Tensor, decoder_pos_embed: Tensor
    ) -> Tensor:
        for layer in self.layers:
            x = layer(x, memory, encoder_pos_embed=encoder_pos_embed, decoder_pos_embed=decoder_pos_embed)
        return self.norm(x)


class DecoderLayer(nn.Module):
    """Self-attention over the queries, cross-attention to the encoder output, feed-forward."""

    def __init__(self, config: Config):
        super().__init__()
        d = config.dim_model
        self.self_attn = nn.MultiheadAttention(d, config.n_heads, dropout=config.dropout)
        self.multihead_attn = nn.MultiheadAttention(d, config.n_heads, dropout=config.dropout)
        self.linear1 = nn.Linear(d, config.dim_feedforward)
        self.dropout = nn.Dropout(config.dropout)
        self.linear2 = nn.Linear(config.dim_feedforward, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)
        self.dropout1 = nn.Dropout(config.dropout)
        self.dropout2 = nn.Dropout(config.dropout)
        self.dropout3 = nn.Dropout(config.dropout)
        self.activation = _activation(config.feedforward_activation)
        self.pre_norm = config.pre_norm

    def forward(
        self, x: Tensor, memory: Tensor, *, encoder_pos_embed: Tensor, decoder_pos_embed: Tensor
    ) -> Tensor:
        # x: (chunk, B, D) queries; memory: (S, B, D) encoder output.
        h = self.norm1(x) if self.pre_norm else x
        qk = h + decoder_pos_embed
        h = self.self_attn(qk, qk, value=h, need_weights=False)[0]
        x = x + self.dropout1(h)
        if not self.pre_norm:
            x = self.norm1(x)
        h = self.norm2(x) if self.pre_norm else x
        h = self.multihead_attn(
            query=h + decoder_pos_embed, key=memory + encoder_pos_embed, value=memory, need_weights=False
        )[0]
        x = x + self.dropout2(h)
        if not self.pre_norm:
            x = self.norm2(x)
        h = self.norm3(x) if self.pre_norm else x
        h = self.linear2(self.dropout(self.activation(self.linear1(h))))
        x = x + self.dropout3(h)
        return x if self.pre_norm else self.norm3(x)


def _activation(name: str):
    return {"relu": F.relu, "gelu": F.gelu, "glu": F.glu}[name]


def sinusoidal_1d(num_positions: int, dim: int) -> Tensor:
    """(num_positions, dim) "Attention is all you need" table: sin on even, cos on odd channels."""
    position = torch.arange(num_positions, dtype=torch.float64).unsqueeze(1)
    exponent = (2 * (torch.arange(dim) // 2)).to(torch.float64) / dim
    angles = position / torch.pow(10000.0, exponent)  # (P, dim)
    table = torch.where(torch.arange(dim) % 2 == 0, angles.sin(), angles.cos())
    return table.float()


def sinusoidal_2d(height: int, width: int, half_dim: int, device: torch.device) -> Tensor:
    """(1, 2*half_dim, h, w) positions of a feature map: y channels then x channels.

    Row/column indices run 1..h / 1..w and are scaled to (0, 2*pi] (the original DETR-style code),
    each embedded as interleaved sin/cos pairs with frequencies 10000^(2i/half_dim).
    """
    eps = 1e-6
    y = torch.arange(1, height + 1, dtype=torch.float32, device=device)
    x = torch.arange(1, width + 1, dtype=torch.float32, device=device)
    y = y / (height + eps) * (2 * math.pi)
    x = x / (width + eps) * (2 * math.pi)
    freq = 10000.0 ** (2 * torch.arange(half_dim // 2, dtype=torch.float32, device=device) / half_dim)

    def embed(coord: Tensor) -> Tensor:  # (n,) -> (n, half_dim)
        angles = coord.unsqueeze(-1) / freq  # (n, half_dim/2)
        return torch.stack((angles.sin(), angles.cos()), dim=-1).flatten(1)

    pos_y = embed(y)[:, None, :].expand(height, width, half_dim)
    pos_x = embed(x)[None, :, :].expand(height, width, half_dim)
    return torch.cat((pos_y, pos_x), dim=-1).permute(2, 0, 1).unsqueeze(0)  # (1, C, h, w)
