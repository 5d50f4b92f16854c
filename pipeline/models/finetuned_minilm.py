"""The finetuned-minilm head: all-MiniLM-L6-v2 fine-tuned end to end on the labels. It reads raw text (its
body is the identity), or (target, text) pairs when target-aware. Minutes per fit on CPU, not seconds."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from pipeline.models import minilm
from pipeline.models.inputs import model_input


class FineTunedMiniLM(ClassifierMixin, BaseEstimator):
    """all-MiniLM-L6-v2 fine-tuned end to end: mean-pooled token states -> dropout -> linear layer.

    Trained with AdamW, a linear warm-up over the first 10% of steps then linear decay, and
    (by default) class-balanced cross-entropy. It reads raw text, or (target, text) pairs when
    `target_aware`. The fitted weights are kept as numpy arrays, so it saves with skops like every
    other family; the torch network is rebuilt from them on first use after loading.
    """

    WARMUP_SHARE = 0.1
    DROPOUT = 0.1
    WEIGHT_DECAY = 0.01

    def __init__(self, epochs: int = 4, learning_rate: float = 5e-5, batch_size: int = 16,
                 max_length: int = 128, class_weight="balanced", target_aware: bool = False,
                 random_state=None):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.class_weight = class_weight
        self.target_aware = target_aware
        self.random_state = random_state

    def fit(self, X, y):
        torch = minilm.torch_module()
        texts, targets = model_input(X)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        loss_weights = None
        if self.class_weight is not None:
            weights = compute_class_weight(self.class_weight, classes=self.classes_, y=np.asarray(y))
            loss_weights = torch.tensor(weights, dtype=torch.float32)
        seed = 0 if self.random_state is None else int(self.random_state)
        order = np.random.RandomState(seed)
        n_batches = math.ceil(len(texts) / self.batch_size)
        total_steps = max(1, self.epochs * n_batches)
        warmup_steps = max(1, int(self.WARMUP_SHARE * total_steps))
        with torch.random.fork_rng():  # seeds dropout and the head without touching the caller's torch RNG
            torch.manual_seed(seed)
            network = self._build_network(torch, len(self.classes_))
            optimizer = torch.optim.AdamW(network.parameters(), lr=self.learning_rate,
                                          weight_decay=self.WEIGHT_DECAY)
            schedule = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: min(1.0, (step + 1) / warmup_steps) * max(0.0, 1 - step / total_steps)
            )
            network.train()
            for _ in range(self.epochs):
                shuffled = order.permutation(len(texts))
                for start in range(0, len(texts), self.batch_size):
                    rows = shuffled[start:start + self.batch_size]
                    logits = self._logits(network, texts[rows], None if targets is None else targets[rows])
                    loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(codes[rows]),
                                                             weight=loss_weights)
                    loss.backward()
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
        self.weights_ = {name: value.detach().numpy().copy() for name, value in network.state_dict().items()}
        self._network = network.eval()
        return self

    def _build_network(self, torch, n_labels: int):
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(minilm.model_path())
        head = torch.nn.Linear(encoder.config.hidden_size, n_labels)
        return torch.nn.ModuleDict({"encoder": encoder, "head": head})

    def _logits(self, network, texts, targets):
        import torch

        segments = [list(texts)]
        if self.target_aware:  # (target, text) pairs; a missing target is an empty first segment
            names = targets if targets is not None else [""] * len(texts)
            # Target names are slugs ("hillary-clinton"); the encoder reads them as words.
            segments.insert(0, [name.replace("-", " ") for name in names])
        batch = minilm.tokenizer()(*segments, truncation=True, max_length=self.max_length, padding=True,
                                    return_tensors="pt")
        hidden = network["encoder"](**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return network["head"](torch.nn.functional.dropout(pooled, self.DROPOUT, network.training))

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        torch = minilm.torch_module()
        texts, targets = model_input(X)
        network = getattr(self, "_network", None)
        if network is None:  # loaded from a file: rebuild the torch network from the saved weights
            network = self._build_network(torch, len(self.classes_))
            network.load_state_dict({name: torch.from_numpy(value) for name, value in self.weights_.items()})
            self._network = network = network.eval()
        chunks = [np.zeros((0, len(self.classes_)), dtype=np.float32)]
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                rows = slice(start, start + 64)
                logits = self._logits(network, texts[rows], None if targets is None else targets[rows])
                chunks.append(torch.softmax(logits, dim=1).numpy())
        return np.vstack(chunks).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns the live __dict__
        state.pop("_network", None)  # rebuilt from weights_; torch objects do not go into model files
        return state
