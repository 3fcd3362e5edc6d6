"""Plain numpy (float64) implementations of docs/lm_1b.md §4-7, written step by step."""

from collections.abc import Sequence

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def concat_shards(t: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    shards = sorted(
        (k for k in t if k.rsplit("_", 1)[0] == prefix and k[len(prefix) + 1 :].isdigit()),
        key=lambda k: int(k.rsplit("_", 1)[1]),
    )
    return np.concatenate([t[k] for k in shards], axis=0).astype(np.float64)


def char_embed_word(t: dict[str, np.ndarray], ids: Sequence[int]) -> np.ndarray:
    """One word's 50 char ids -> [P] (§5.2-5.4), from release-named tensors."""
    chars = t["char_embedding/W"].astype(np.float64)[np.asarray(ids)]  # [L, E]
    features = []
    k = 0
    while f"char_embedding/cnn_{k}/kernel" in t:
        kernel = t[f"char_embedding/cnn_{k}/kernel"].astype(np.float64)  # [w, E, 1, n]
        bias = t[f"char_embedding/cnn_{k}/b"].reshape(-1)
        width = kernel.shape[0]
        u = [
            np.einsum("ad,adn->n", chars[s : s + width], kernel[:, :, 0, :]) + bias
            for s in range(len(ids) - width + 1)
        ]
        features.append(np.max(np.maximum(np.array(u), 0.0), axis=0))
        k += 1
    x = np.concatenate(features)
    d = 0
    while f"char_embedding/dense_{d}/gate/b" in t:
        p = f"char_embedding/dense_{d}"
        gate = sigmoid(x @ concat_shards(t, f"{p}/gate/W") + t[f"{p}/gate/b"][0] - 2.0)
        transformed = np.maximum(x @ concat_shards(t, f"{p}/tr/W") + t[f"{p}/tr/b"][0], 0.0)
        x = gate * transformed + (1.0 - gate) * x
        d += 1
    return x @ concat_shards(t, "char_embedding/proj/W") + t["char_embedding/proj/b"][0]


def lstmp_step(x, c_prev, h_prev, kernel, bias, w_i, w_f, w_o, projection):
    """One LSTMP step (§5.5): returns (c, h)."""
    z = np.concatenate([x, h_prev]) @ kernel + bias
    i, j, f, o = np.split(z, 4)
    c = sigmoid(f + 1.0 + w_f * c_prev) * c_prev + sigmoid(i + w_i * c_prev) * np.tanh(j)
    m = sigmoid(o + w_o * c) * np.tanh(c)
    return c, m @ projection


def lstmp_sequence(
    xs: np.ndarray, kernel, bias, w_i, w_f, w_o, projection
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Run one sequence ``xs`` [T, in] from the zero state: outputs [T, P] and final (c, h)."""
    c, h = np.zeros(len(w_i)), np.zeros(projection.shape[1])
    outputs = []
    for x in xs:
        c, h = lstmp_step(x, c, h, kernel, bias, w_i, w_f, w_o, projection)
        outputs.append(h)
    return np.array(outputs).reshape(len(xs), projection.shape[1]), (c, h)


def lstm_arrays(t: dict[str, np.ndarray], layer: int) -> list[np.ndarray]:
    p = f"lstm/lstm_{layer}"
    return [
        concat_shards(t, f"{p}/W"),
        t[f"{p}/B"],
        t[f"{p}/W_I_diag"],
        t[f"{p}/W_F_diag"],
        t[f"{p}/W_O_diag"],
        concat_shards(t, f"{p}/W_P"),
    ]


def sentence_outputs(t: dict[str, np.ndarray], word_char_ids: np.ndarray) -> np.ndarray:
    """[1 + layers, n, P]: char embeddings and each LSTM layer's output for one word sequence."""
    x = np.array([char_embed_word(t, ids) for ids in word_char_ids])
    layers = [x]
    layer = 0
    while f"lstm/lstm_{layer}/B" in t:
        x, _ = lstmp_sequence(x, *(a.astype(np.float64) for a in lstm_arrays(t, layer)))
        layers.append(x)
        layer += 1
    return np.stack(layers)


def softmax_matrix(t: dict[str, np.ndarray]) -> np.ndarray:
    """The graph's idiom: concat(W_0..W_7, axis=1) then reshape to [Vpad, P]."""
    shards = [t[f"softmax/W_{s}"] for s in range(8)]
    return np.concatenate(shards, axis=1).reshape(-1, shards[0].shape[1]).astype(np.float64)
