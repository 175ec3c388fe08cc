"""The fine-tuned network of the ``finetune`` kind (training/models/finetune.py): the base encoder
with a linear head per facet, and the layer plumbing that trains only its top layers (the frozen
layers' outputs computed once, ``cache_frozen``, and fed to the top ones).
"""

from __future__ import annotations

import numpy as np

from training.models import encoder


def two_heads(
    base, n_actors: int, n_stances: int, dropout: float, actor_w=None, stance_w=None, top: int | None = None
):
    """The model: the base encoder, mean pooling, and a linear head per facet. With ``top``, a batch
    may carry ``hidden_states`` (the frozen layers' cached outputs) in place of ``input_ids``."""
    import torch
    from torch import nn

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = base
            hidden = base.config.hidden_size
            self.dropout = nn.Dropout(dropout)
            self.actor_head = nn.Linear(hidden, n_actors)
            self.stance_head = nn.Linear(hidden, n_stances)
            self.register_buffer(
                "actor_w",
                torch.as_tensor(actor_w if actor_w is not None else np.ones(n_actors), dtype=torch.float32),
            )
            self.register_buffer(
                "stance_w",
                torch.as_tensor(
                    stance_w if stance_w is not None else np.ones(n_stances), dtype=torch.float32
                ),
            )

        def forward(
            self,
            input_ids=None,
            attention_mask=None,
            token_type_ids=None,
            actor_labels=None,
            stance_labels=None,
            hidden_states=None,
            pool_mask=None,
        ):
            if hidden_states is not None:
                hidden = top_layers(self.encoder, top, hidden_states, attention_mask)
            else:
                kwargs = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
                hidden = self.encoder(
                    input_ids=input_ids, attention_mask=attention_mask, **kwargs
                ).last_hidden_state
            # with a context segment the heads read the sentence's own tokens (pool_mask), not the context's
            pooled = self.dropout(
                encoder.mean_pool(hidden, attention_mask if pool_mask is None else pool_mask)
            )
            actor_logits, stance_logits = self.actor_head(pooled), self.stance_head(pooled)
            out = {"actor_logits": actor_logits, "stance_logits": stance_logits}
            if stance_labels is not None:
                loss = nn.functional.cross_entropy(stance_logits, stance_labels, weight=self.stance_w)
                bearing = actor_labels < n_actors  # the "none" actor id is n_actors: no actor loss
                if bearing.any():
                    loss = loss + nn.functional.cross_entropy(
                        actor_logits[bearing], actor_labels[bearing], weight=self.actor_w
                    )
                out["loss"] = loss
            return out

    return TwoHeads()


def _first_trained(base, trainable: int) -> int:
    """The index of the first transformer layer ``trainable_layers`` trains (the ones below stay frozen)."""
    return len(base.encoder.layer) - trainable


def frozen_states(
    base, tokenizer, texts: list[str], trainable: int, max_length: int, batch_size: int, seconds=None
) -> tuple[list, list | None]:
    """Each sentence's hidden states below the top ``trainable`` layers, its real tokens only,
    computed once in eval mode (``cache_frozen``): what those layers read, epoch after epoch.
    With ``seconds`` (context segments), also each row's pool mask over those tokens."""
    import torch

    below = _first_trained(base, trainable)
    out: list = [None] * len(texts)
    pools: list | None = None if seconds is None else [None] * len(texts)
    base.eval()
    with torch.no_grad():  # not inference_mode: the top layers save these inputs for their backward pass
        for idx, enc in encoder.batches_by_length(texts, tokenizer, batch_size, max_length, seconds):
            pool = enc.pop("pool_mask", None)
            hidden = base(**enc, output_hidden_states=True).hidden_states[below]
            for row, i in enumerate(idx):
                real = enc["attention_mask"][row].bool()
                out[i] = hidden[row][real].clone()
                if pools is not None:
                    pools[i] = pool[row][real].clone()
    return out, pools


def top_layers(base, trainable: int, hidden, attention_mask):
    """The top ``trainable`` transformer layers over cached hidden states: the same attention mask
    the encoder builds, and mpnet's relative-position bias (computed from the sequence length)."""
    from transformers.masking_utils import create_bidirectional_mask

    mask = create_bidirectional_mask(config=base.config, inputs_embeds=hidden, attention_mask=attention_mask)
    kwargs = {}
    if hasattr(base.encoder, "compute_position_bias"):  # mpnet: one bias shared by every layer
        kwargs["position_bias"] = base.encoder.compute_position_bias(hidden)
    for layer in base.encoder.layer[_first_trained(base, trainable) :]:
        out = layer(hidden, mask, **kwargs)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def freeze_below(base, trainable: int) -> None:
    """Freeze every encoder weight but the top ``trainable`` transformer layers' (BERT-like encoders:
    ``base.encoder.layer``); mpnet's relative-position bias, shared by all layers, stays frozen too."""
    from stance.errors import StanceError

    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        raise StanceError(f"trainable_layers: {type(base).__name__} has no encoder.layer list to freeze")
    if trainable > len(layers):
        raise StanceError(f"trainable_layers: {trainable} asked, the encoder has {len(layers)} layers")
    for p in base.parameters():
        p.requires_grad_(False)
    for layer in layers[_first_trained(base, trainable) :]:
        for p in layer.parameters():
            p.requires_grad_(True)
