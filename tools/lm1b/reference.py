"""The "original graph" oracle: runs an lm_1b pbtxt + V1 checkpoints the way lm_1b_eval.py does.

``ReferenceLM`` parses the GraphDef text file, imports it with ``name=""`` into a fresh graph,
restores it through the graph's own saver (``save/restore_all`` fed with the checkpoint glob in
``save/Const:0``) and then feeds one token per ``session.run``, exactly like the release's
``lm_1b_eval.py`` (batch 1 x 1 step, state kept in the graph variables).

It carries its own small port of data_utils' ``Vocabulary`` / ``CharsVocabulary`` (docs/lm_1b.md §3 and
§9), written independently of the library's loader on purpose: this module is the yardstick the
library is compared against, so it must not share code with it.

Works on the real release and on ``tools.lm1b.make_synthetic`` output alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from google.protobuf import text_format

MAXTERMID = b"!!!MAXTERMID"  # its own copy: the yardstick shares nothing with the library


MAX_WORD_LEN = 50
_LSTM_OUTPUTS = ("lstm/lstm_0/control_dependency:0", "lstm/lstm_1/control_dependency:0")


class _WordVocab:
    """data_utils.Vocabulary: one token per line, ids in file order, !!!MAXTERMID skipped."""

    def __init__(self, path: str):
        self.words: list[bytes] = []
        with open(path, "rb") as f:
            for line in f:
                word = line.strip()  # bytes.strip == Python 2 str.strip: ASCII whitespace
                if word != MAXTERMID:
                    self.words.append(word)
        self.ids: dict[bytes, int] = {w: i for i, w in enumerate(self.words)}  # last one wins
        self.bos, self.eos, self.unk = (self.ids[w] for w in (b"<S>", b"</S>", b"<UNK>"))

    def word_to_id(self, word: bytes) -> int:
        """Known word -> its id; anything else -> <UNK>."""
        return self.ids.get(word, self.unk)


class _CharVocab:
    """data_utils.CharsVocabulary: bytes as char ids; the 5 lowest unused bytes are specials."""

    def __init__(self, words: Sequence[bytes]):
        used = set()
        for word in words:
            used.update(word)
        free = [b for b in range(256) if b not in used]
        if len(free) < 5:
            raise ValueError("vocabulary uses %d byte values; need 5 free" % (256 - len(free)))
        self.bos, self.eos, self.bow, self.eow, self.pad = free[:5]

    def encode(self, word: bytes) -> np.ndarray:
        """[bow, first 48 bytes, eow, pad, ...] as 50 int32 ids."""
        ids = np.full([MAX_WORD_LEN], self.pad, dtype=np.int32)
        body = list(word[: MAX_WORD_LEN - 2])
        ids[: len(body) + 2] = [self.bow] + body + [self.eow]
        return ids

    def sentence_boundary(self, which: int) -> np.ndarray:
        """bos_chars / eos_chars of eval mode: [bow, bos|eos, eow, pad, ...]."""
        ids = np.full([MAX_WORD_LEN], self.pad, dtype=np.int32)
        ids[:3] = [self.bow, which, self.eow]
        return ids


class ReferenceLM:
    """The released graph in a TF1 session, driven one token per run like lm_1b_eval.py."""

    def __init__(self, pbtxt_path: str, ckpt_glob: str, vocab_path: str, restore_softmax: bool = True):
        """``restore_softmax=False`` restores every variable but ``softmax/*`` (as partial
        restores of the release do), for runs that fetch only embeddings and LSTM outputs."""

        self.vocab = _WordVocab(vocab_path)
        self.chars = _CharVocab(self.vocab.words)
        graph_def = tf.compat.v1.GraphDef()
        with open(pbtxt_path, encoding="utf-8") as f:
            text_format.Merge(f.read(), graph_def)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        try:
            if restore_softmax:
                self.session.run("save/restore_all", {"save/Const:0": ckpt_glob})
            else:
                self._restore_all_but_softmax(ckpt_glob)
        except Exception:
            self.close()
            raise
        self.reset()  # lm_1b_eval runs states_init once right after the restore

    def _restore_all_but_softmax(self, ckpt_glob: str) -> None:

        reader = tf.train.load_checkpoint(ckpt_glob)
        with self.graph.as_default():
            for name in sorted(reader.get_variable_to_shape_map()):
                if name.startswith("softmax/"):
                    continue
                variable = self.graph.get_tensor_by_name(name + ":0")
                value = reader.get_tensor(name)
                placeholder = tf.compat.v1.placeholder(variable.dtype.base_dtype, value.shape)
                self.session.run(tf.compat.v1.assign(variable, placeholder), {placeholder: value})

    # -- encoding -------------------------------------------------------------------------

    def word_id(self, token: str) -> int:
        """Word id of a token (UTF-8), <UNK> for out-of-vocabulary tokens."""
        return self.vocab.word_to_id(token.encode("utf-8"))

    def word_char_ids(self, token: str) -> np.ndarray:
        """The 50 char ids of a token, from its UTF-8 bytes (known and OOV words alike)."""
        return self.chars.encode(token.encode("utf-8"))

    # -- running --------------------------------------------------------------------------

    def reset(self) -> None:
        """Run ``states_init`` (zero both LSTM state variables)."""
        self.session.run("states_init")

    def step(
        self,
        word_id: int,
        char_ids: np.ndarray,
        fetches: Sequence[str],
        target_id: int = 0,
        weight: float = 1.0,
    ) -> list:
        """One ``session.run`` of a single token (batch 1 x 1 step); returns the fetched values."""
        feed = {
            "inputs_in:0": np.array([[word_id]], np.int32),
            "char_inputs_in:0": np.asarray(char_ids, np.int32).reshape(1, 1, MAX_WORD_LEN),
            "targets_in:0": np.array([[target_id]], np.int32),
            "target_weights_in:0": np.array([[weight]], np.float32),
        }
        return self.session.run(list(fetches), feed)

    def _start(self, bos_chars: str) -> tuple[int, np.ndarray]:
        """Word id and char ids fed for the sentence start."""
        if bos_chars == "word":  # _SampleModel / dump modes: the literal vocab word <S>
            return self.vocab.bos, self.chars.encode(b"<S>")
        if bos_chars == "eval":  # eval mode (encode_chars): [bow, bos, eow, pad...]
            return self.vocab.bos, self.chars.sentence_boundary(self.chars.bos)
        raise ValueError("bos_chars must be 'word' or 'eval', got %r" % bos_chars)

    def dump_lstm_emb(self, tokens: Sequence[str], bos_chars: str = "word") -> np.ndarray:
        """[3, n, P] rows (all_embs_out, lstm_0, lstm_1) of each token, as lm_1b_eval dumps them.

        Resets the state, feeds ``<S>`` then each token (one run each) and drops the ``<S>`` step.
        """
        self.reset()
        if not tokens:
            width = self.graph.get_tensor_by_name("all_embs_out:0").shape[-1]
            return np.zeros([3, 0, width], np.float32)
        start = self._start(bos_chars)
        fetches = ["all_embs_out:0"] + list(_LSTM_OUTPUTS)
        rows = []
        for word_id, char_ids in [start] + [(self.word_id(t), self.word_char_ids(t)) for t in tokens]:
            rows.append([np.asarray(v)[0] for v in self.step(word_id, char_ids, fetches)])
        return np.stack([np.stack(layer) for layer in zip(*rows[1:])]).astype(np.float32)

    def dump_lstm_emb_line(self, line: str) -> tuple[np.ndarray, bool]:
        """lm_1b_eval's ``_DumpSentenceEmbedding`` on one raw line, every fed step kept.

        As the original: ``<S> `` is prepended unless ``line.find('<S>') == 0``, the UTF-8
        bytes are split with Python 2's ``str.split()`` (ASCII whitespace), and every word,
        ``<S>`` included, is fed by its word id and spelling. Returns ``[3, words, P]`` and
        whether ``<S>`` was added.
        """
        added = line.find("<S>") != 0
        words = (("<S> " if added else "") + line).encode("utf-8").split()
        self.reset()
        fetches = ["all_embs_out:0"] + list(_LSTM_OUTPUTS)
        rows = [
            [np.asarray(v)[0] for v in self.step(self.vocab.word_to_id(w), self.chars.encode(w), fetches)]
            for w in words
        ]
        return np.stack([np.stack(layer) for layer in zip(*rows)]).astype(np.float32), added

    def softmax_steps(self, tokens: Sequence[str], bos_chars: str = "word") -> tuple[np.ndarray, np.ndarray]:
        """Next-word distributions of a sentence: ``(softmax [n+1, Vpad], log_perp [n+1])``.

        Resets the state and feeds the n+1 inputs ``<S>, t1 .. tn`` with targets
        ``t1 .. tn, </S>`` (word ids, <UNK> for OOV) and weight 1. Row k is the step whose input
        is the k-th of those (k = 0 is ``<S>``): ``softmax_out`` = p(. | <S>, t1..tk) over all
        padded rows, and ``log_perplexity_out`` = -log p(target_k) / (1 + 1e-4).
        """
        self.reset()
        inputs = [self._start(bos_chars)] + [(self.word_id(t), self.word_char_ids(t)) for t in tokens]
        targets = [self.word_id(t) for t in tokens] + [self.vocab.eos]
        probs, log_perps = [], []
        for (word_id, char_ids), target in zip(inputs, targets):
            p, lp = self.step(
                word_id, char_ids, ["softmax_out:0", "log_perplexity_out:0"], target_id=target, weight=1.0
            )
            probs.append(p[0])
            log_perps.append(lp)
        return np.stack(probs), np.asarray(log_perps, np.float32)

    def softmax_matrix(self) -> np.ndarray:
        """``Reshape_3``: the interleaved [Vpad, P] softmax weight matrix."""
        return self.session.run("Reshape_3:0")

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def __enter__(self) -> ReferenceLM:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
