"""flair's SequenceTagger configured like our NER model: training and decoding tokens/s on CoNLL-2003.

    .venv-flair/bin/python benchmarks/flair_tagger.py [--train_batches=200] [--output=FILE.json]

Runs in the flair venv (``make flair-venv``), as a plain script: it imports flair, torch, numpy
and the standard library only, never ``taglm_tf`` or TensorFlow (``python -m benchmarks...``
would import the ``benchmarks`` package, which imports ``taglm_tf``). ``benchmarks.vs_flair`` runs
it beside ``benchmarks.tagger_throughput``; the keys of its JSON are those of that benchmark
wherever they mean the same thing.

The model, as our NER model (README, "paper settings") wherever flair allows:

- words: GloVe 6B 50d, fine-tuned, over our vocabulary (every training word, lowercased with
  digits as 0, plus the dev and test words GloVe has); other training words start uniform random;
- chars: a BiLSTM of 80 units per direction on 25-d char embeddings over the training chars
  (flair's ``CharacterEmbeddings`` has no GRU; ours is a BiGRU);
- 2 x BiGRU 300 (one ``torch.nn.GRU`` with ``num_layers=2``), no reprojection of the
  embeddings (ours has none), a CRF over BIOES tags;
- dropout 0.25 on the GRU input and output, none on words or locked (ours: 0.25 on the char
  embeddings and on each GRU input); flair fixes 0.5 between its two GRU layers.

Training: flair's own train step (``forward_loss``, backward, gradients clipped to a global norm of
5.0, Adam with lr 0.001, embeddings dropped after the batch) on batches of ``--batch_size``
shuffled training sentences; ``--warmup_batches`` untimed, then ``--train_batches`` timed;
tokens are the sentences' real tokens. Decoding: ``SequenceTagger.predict`` over every dev
sentence in batches of ``--eval_batch_size`` (flair sorts them by length), the model in eval
mode; the first pass is untimed, then at least ``--min_passes`` passes and ``--min_seconds`` in
all, reported as the median tokens/s with the slowest and fastest pass (the statistics of
``benchmarks.common.repeat``). Turning the token lists into flair ``Sentence`` objects is not in
the decoding time; ``sentence_build_seconds`` gives it for the dev set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import lzma
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

CONLL_FILES = {"train": "conll2003/eng.train", "dev": "conll2003/eng.testa", "test": "conll2003/eng.testb"}
DOCSTART = "-DOCSTART-"
TAG_TYPE = "ner"
SETTINGS = {  # our NER model's settings (taglm_tf.models.config.TaggerConfig's defaults)
    "char_dim": 25,
    "char_units": 80,
    "word_dim": 50,
    "rnn_cell": "GRU",
    "rnn_units": 300,
    "rnn_layers": 2,
    "dropout": 0.25,
    "learning_rate": 0.001,
    "clip_norm": 5.0,
}


def read_conll(path: str) -> list[tuple[list[str], list[str]]]:
    """Sentences of a CoNLL column file as (tokens, tags): the word is the first column, the tag
    the last; blank lines and ``-DOCSTART-`` lines end a sentence (CoNLL-2003's layout).

    Raises:
        ValueError: naming the file and line, for a token line with fewer than two columns.
    """
    sentences, tokens, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0] == DOCSTART:
                if tokens:
                    sentences.append((tokens, tags))
                tokens, tags = [], []
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{number}: a token line needs a word and a tag: {line!r}")
            tokens.append(fields[0])
            tags.append(fields[-1])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def iob_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Chunks of IOB1 (or IOB2) tags as ``(start, end, type)``, ``end`` exclusive: ``B-T`` always
    starts a chunk, ``I-T`` continues one of type T and starts one after anything else
    (conlleval's chunk rules for IOB1).

    Raises:
        ValueError: for a tag that is neither ``O`` nor ``B-``/``I-`` with a type.
    """
    spans: list[tuple[int, int, str]] = []
    previous = "O"
    for i, tag in enumerate(tags):
        if tag != "O" and (tag[:2] not in ("B-", "I-") or len(tag) < 3):
            raise ValueError(f"not an IOB tag: {tag!r}")
        if tag == "O":
            previous = tag
            continue
        kind = tag[2:]
        if tag.startswith("I-") and previous != "O" and previous[2:] == kind:
            spans[-1] = (spans[-1][0], i + 1, kind)
        else:
            spans.append((i, i + 1, kind))
        previous = tag
    return spans


def normalize(word: str) -> str:
    """Our embedding lookup key (paper §3): lowercase, every digit 0-9 as 0."""
    return re.sub("[0-9]", "0", word.lower())


def open_text(path: str):
    """A text file for reading as UTF-8, decompressed by its suffix (``.xz``, ``.gz``)."""
    opener = lzma.open if path.endswith(".xz") else gzip.open if path.endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8")


def read_vectors(path: str, wanted: set[str], dim: int) -> dict[str, np.ndarray]:
    """``{word: float32 [dim]}`` for the words of ``wanted`` in a GloVe text file (``word v1 ... vD``
    per line, no header); other lines are skipped unparsed.

    Raises:
        ValueError: naming the file and line, for a wanted word whose vector is not ``dim`` long.
    """
    table = {}
    with open_text(path) as f:
        for number, line in enumerate(f, 1):
            word, _, rest = line.rstrip("\n").partition(" ")
            if word in wanted:
                vector = np.array(rest.split(" "), dtype=np.float32)
                if vector.shape != (dim,):
                    raise ValueError(f"{path}:{number}: {vector.size} values for a {dim}-d vector")
                table[word] = vector
    return table


def word_table(
    train: Sequence[Sequence[str]], other: Sequence[Sequence[str]], vectors_path: str, dim: int, seed: int
) -> tuple[dict[str, int], np.ndarray, int]:
    """Our word vocabulary and its initial vectors, as ``taglm_tf.data.resources`` builds them:
    every normalised training word, then the normalised words of ``other`` (dev, test) that
    GloVe has.

    Returns:
        ``{word: row}``, the ``[len(vocab) + 1, dim]`` float32 matrix (GloVe rows where known,
        else uniform in ±sqrt(3/dim); the last row, flair's unknown word, zero) and how many
        rows came from GloVe.
    """
    train_words = list(dict.fromkeys(normalize(t) for tokens in train for t in tokens))
    other_words = list(dict.fromkeys(normalize(t) for tokens in other for t in tokens))
    table = read_vectors(vectors_path, set(train_words) | set(other_words), dim)
    seen = set(train_words)
    words = train_words + [w for w in other_words if w in table and w not in seen]
    rng = np.random.default_rng(seed)
    scale = np.sqrt(3.0 / dim)
    matrix = rng.uniform(-scale, scale, size=(len(words) + 1, dim)).astype(np.float32)
    matrix[-1] = 0.0
    for i, word in enumerate(words):
        if word in table:
            matrix[i] = table[word]
    return {w: i for i, w in enumerate(words)}, matrix, sum(w in table for w in words)


def repeat(measure: Callable[[], dict], min_passes: int = 5, min_seconds: float = 30.0) -> dict:
    """``benchmarks.common.repeat`` (which imports TensorFlow, so it is not imported here; a test
    checks the two agree): call ``measure`` (one timed pass: ``tokens`` and ``seconds``) until
    ``min_passes`` passes and ``min_seconds`` in all; tokens/s as median, min and max, and every
    pass's seconds."""
    passes: list[dict] = []
    while len(passes) < min_passes or sum(p["seconds"] for p in passes) < min_seconds:
        passes.append(measure())
    rates = [p["tokens"] / p["seconds"] for p in passes]
    return {
        "tokens": passes[0]["tokens"],
        "passes": len(passes),
        "tokens_per_sec": statistics.median(rates),
        "tokens_per_sec_min": min(rates),
        "tokens_per_sec_max": max(rates),
        "seconds": [p["seconds"] for p in passes],
    }


def batches(count: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """Sentence indices in batches of ``batch_size``, shuffled anew each epoch (flair's trainer
    order: a plain shuffle, no length bucketing), without end."""
    rng = random.Random(seed)
    while True:
        order = list(range(count))
        rng.shuffle(order)
        for start in range(0, count, batch_size):
            yield order[start : start + batch_size]


def cpu_info() -> dict:
    """The machine as ``benchmarks.common.report`` records it (``taglm_tf.utils.provenance.platform``):
    CPU count, model and AVX-512 and AMX flags (empty: none; None: not Linux), since the same
    machine type ran ~3x faster with them."""
    model, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
        flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
        flags = sorted(f for f in flags if f.startswith(("avx512", "amx")))
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "machine": platform.machine(), "cpu_model": model, "cpu_flags": flags}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The flags, named as ``benchmarks.tagger_throughput``'s (the driver passes one list to both)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=None, help="Data root (default: $TAGLM_DATA_DIR or ./data).")
    parser.add_argument(
        "--embeddings", default="embeddings/glove.6B.50d.txt.xz", help="GloVe, data-relative."
    )
    parser.add_argument(
        "--dev_sentences", type=int, default=0, help="Decode only the first N dev sentences (0: all)."
    )
    parser.add_argument("--batch_size", type=int, default=32, help="Training batch (sentences).")
    parser.add_argument("--eval_batch_size", type=int, default=128, help="Decoding batch (sentences).")
    parser.add_argument("--warmup_batches", type=int, default=8, help="Untimed training batches.")
    parser.add_argument("--train_batches", type=int, default=200, help="Timed training batches.")
    parser.add_argument("--min_passes", type=int, default=5, help="Timed decoding passes, at least.")
    parser.add_argument("--min_seconds", type=float, default=30.0, help="... and this many seconds in all.")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch's intra-op threads.")
    parser.add_argument("--seed", type=int, default=1, help="Batch order, initial weights.")
    parser.add_argument("--output", default=None, help="Also write the result as JSON here.")
    args = parser.parse_args(argv)
    for name in ("batch_size", "eval_batch_size", "train_batches", "min_passes", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if min(args.dev_sentences, args.warmup_batches, args.min_seconds) < 0:
        parser.error("--dev_sentences, --warmup_batches and --min_seconds must not be negative")
    return args


class DataError(Exception):
    """A missing or malformed data file; the message names it."""


def load_corpus(data_dir: str, embeddings: str, seed: int) -> dict:
    """The three splits (tokens, tags) and the word table, from ``data_dir``.

    Raises:
        DataError: naming the missing file and the data directory, or the file and line that
            does not read.
    """
    paths = {name: os.path.join(data_dir, rel) for name, rel in CONLL_FILES.items()}
    paths["embeddings"] = os.path.join(data_dir, embeddings)
    for path in paths.values():
        if not os.path.isfile(path):
            raise DataError(f"{path} not found (data directory {data_dir}: set TAGLM_DATA_DIR or --data_dir)")
    try:
        splits = {name: read_conll(paths[name]) for name in CONLL_FILES}
        for _, tags in splits["train"]:
            try:
                iob_spans(tags)
            except ValueError as e:
                raise ValueError(f"{paths['train']}: {e}") from None
        vocab, matrix, found = word_table(
            [t for t, _ in splits["train"]],
            [t for name in ("dev", "test") for t, _ in splits[name]],
            paths["embeddings"],
            SETTINGS["word_dim"],
            seed,
        )
    except (ValueError, UnicodeDecodeError, OSError) as e:
        raise DataError(str(e)) from e
    return {**splits, "vocab": vocab, "matrix": matrix, "found": found}


# flair and torch exist only in the flair venv, while our venv imports this module too (the tests
# of its pure-Python parts, the import check of every module): each function that needs them
# imports them itself.
def to_sentences(split: Sequence[tuple[list[str], list[str]]], labelled: bool) -> list:
    """flair ``Sentence`` objects of pre-tokenized sentences; with ``labelled``, their IOB1 chunks
    as span labels of type ``ner``."""
    from flair.data import Sentence  # flair venv only (see above)

    sentences = []
    for tokens, tags in split:
        sentence = Sentence(tokens)
        for start, end, kind in iob_spans(tags) if labelled else ():
            sentence[start:end].add_label(TAG_TYPE, kind)
        sentences.append(sentence)
    return sentences


def build_tagger(corpus: dict):
    """The SequenceTagger of the module docstring over ``corpus`` (from :func:`load_corpus`)."""
    import torch  # flair venv only (see above)
    from flair.data import Dictionary
    from flair.embeddings import CharacterEmbeddings, StackedEmbeddings, WordEmbeddings
    from flair.models import SequenceTagger

    chars = Dictionary(add_unk=True)
    for tokens, _ in corpus["train"]:
        for char in "".join(tokens):
            chars.add_item(char)
    types = Dictionary(add_unk=False)
    for kind in sorted({k for _, tags in corpus["train"] for _, _, k in iob_spans(tags)}):
        types.add_item(kind)
    types.span_labels = True  # flair then trains on BIOES tags of these types
    words = WordEmbeddings(
        None, fine_tune=True, vocab=corpus["vocab"], embedding_length=SETTINGS["word_dim"], name="glove"
    )
    with torch.no_grad():
        words.embedding.weight.copy_(torch.from_numpy(corpus["matrix"]))
    char_encoder = CharacterEmbeddings(
        chars, char_embedding_dim=SETTINGS["char_dim"], hidden_size_char=SETTINGS["char_units"]
    )
    return SequenceTagger(
        StackedEmbeddings([char_encoder, words]),  # [chars; words], our order
        types,
        TAG_TYPE,
        rnn_type=SETTINGS["rnn_cell"],
        hidden_size=SETTINGS["rnn_units"],
        rnn_layers=SETTINGS["rnn_layers"],
        use_crf=True,
        reproject_embeddings=False,
        dropout=SETTINGS["dropout"],
        word_dropout=0.0,
        locked_dropout=0.0,
        tag_format="BIOES",
    )


def measure_training(tagger, sentences: list, args: argparse.Namespace) -> dict:
    """Tokens/s of flair's train step (module docstring) over ``--train_batches`` timed batches."""
    import torch  # flair venv only (see above)
    from flair.training_utils import store_embeddings

    optimizer = torch.optim.Adam(tagger.parameters(), lr=SETTINGS["learning_rate"])
    tagger.train()

    def step(batch: list) -> float:
        tagger.zero_grad()
        loss, _ = tagger.forward_loss(batch)
        loss.backward()
        store_embeddings(batch, "none")
        torch.nn.utils.clip_grad_norm_(tagger.parameters(), SETTINGS["clip_norm"])
        optimizer.step()
        return loss.item()  # as flair's trainer, every batch

    order = batches(len(sentences), args.batch_size, args.seed)
    for _ in range(args.warmup_batches):
        step([sentences[i] for i in next(order)])
    tokens, start = 0, time.perf_counter()
    for _ in range(args.train_batches):
        batch = [sentences[i] for i in next(order)]
        step(batch)
        tokens += sum(len(s) for s in batch)
    seconds = time.perf_counter() - start
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_sec": tokens / seconds,
        "ms_per_batch": 1000 * seconds / args.train_batches,
    }


def measure_decoding(tagger, sentences: list, args: argparse.Namespace) -> dict:
    """Tokens/s of ``predict`` over ``sentences`` (module docstring); also the spans the last pass
    predicted, a check that it tagged something."""
    tagger.eval()
    tokens = sum(len(s) for s in sentences)

    def one_pass() -> dict:
        start = time.perf_counter()
        tagger.predict(sentences, mini_batch_size=args.eval_batch_size)
        return {"tokens": tokens, "seconds": time.perf_counter() - start}

    one_pass()
    result = repeat(one_pass, args.min_passes, args.min_seconds)
    result["spans_predicted"] = sum(len(s.get_labels(TAG_TYPE)) for s in sentences)
    return result


def versions() -> dict:
    """flair's, torch's and Python's versions and torch's thread pools (as ``threads`` in our
    report: ``intra_op``, ``inter_op`` and the variables that set them)."""
    import flair  # flair venv only (see above)
    import torch

    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return {
        "threads": {
            "intra_op": torch.get_num_threads(),
            "inter_op": torch.get_num_interop_threads(),
            "environment": {name: os.environ[name] for name in names if name in os.environ},
        },
        "python": platform.python_version(),
        "flair": flair.__version__,
        "torch": torch.__version__,
    }


def run(args: argparse.Namespace) -> dict:
    """Load the data, build the tagger, measure training then decoding; the result (no machine)."""
    import flair  # flair venv only (see above)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    flair.device = torch.device("cpu")
    logging.getLogger("flair").setLevel(logging.WARNING)  # its INFO lines would join our JSON on stdout
    data_dir = args.data_dir or os.environ.get("TAGLM_DATA_DIR") or "data"
    corpus = load_corpus(data_dir, args.embeddings, args.seed)
    tagger = build_tagger(corpus)
    train = to_sentences(corpus["train"], labelled=True)
    start = time.perf_counter()
    dev = to_sentences(corpus["dev"][: args.dev_sentences or None], labelled=False)
    build_seconds = time.perf_counter() - start
    return {
        "task": "ner",
        "model": {
            **SETTINGS,
            "char_cell": "LSTM",
            "rnn_inter_layer_dropout": 0.5,
            "reproject_embeddings": False,
        },
        "params": sum(p.numel() for p in tagger.parameters()),
        "vocabulary": {"words": len(corpus["vocab"]), "from_glove": corpus["found"]},
        "train": measure_training(tagger, train, args),
        "inference": measure_decoding(tagger, dev, args),
        "sentence_build_seconds": build_seconds,
        "batch_size": args.batch_size,
        "eval_batch_size": args.eval_batch_size,
        "embeddings": args.embeddings,
        "dev_sentences": len(dev),
    }


def check_output_path(output: str, data_dir: str) -> None:
    """``--output`` checked before any work, as the project's tools check theirs (this script
    cannot import them): a file, in an existing folder, and never inside the data it reads.

    Raises:
        DataError: naming the path and what is wrong.
    """
    real, data = os.path.realpath(output), os.path.realpath(data_dir)
    if os.path.isdir(real):
        raise DataError(f"{output}: --output: is a folder, not a file")
    if not os.path.isdir(os.path.dirname(real)):
        raise DataError(f"{output}: --output: its folder does not exist")
    if os.path.commonpath([real, data]) == data:
        raise DataError(f"{output}: --output: inside the data directory {data_dir}, which this script reads")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print its JSON (and write it to ``--output``); 1 with one ``error:`` line
    for a bad ``--output``, missing or malformed data or a Python without flair."""
    args = parse_args(argv)
    try:
        if args.output:
            check_output_path(args.output, args.data_dir or os.environ.get("TAGLM_DATA_DIR") or "data")
        result = run(args)
    except ImportError as e:
        print(
            f"error: {e.name or e} is not installed in {sys.executable}; make flair-venv makes .venv-flair",
            file=sys.stderr,
        )
        return 1
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    result.update({**cpu_info(), **versions()})
    print(json.dumps(result, indent=1))
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
