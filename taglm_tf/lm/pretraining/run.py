"""One LM pretraining run end to end (loading its result: :mod:`taglm_tf.lm.pretraining.saving`).

``model_dir`` layout: ``config.json`` (this run's
:class:`~taglm_tf.lm.pretraining.config.PretrainConfig`, its model config with the LM ``kind``
under ``model``, the model's constructor arguments under ``model_args``, the vocabulary size and,
under ``starts``, the time, code commit and platform of each start and resume), ``vocab.txt`` (+ ``vocab.txt.counts``),
``checkpoints/ckpt-<step>``, ``tensorboard/`` (``train/*`` every ``log_every`` steps,
``heldout/*`` at checkpoints) and ``train_result.json`` (last metrics, steps, wall time;
written when the run ends). ``config.json`` is written last when a run starts (atomically, once
the data and vocabulary are ready): it commits the run, and the files written before it count
only once it exists (:func:`committed`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import tensorflow as tf

from taglm_tf import run_dir
from taglm_tf.data.featurizer import normalize_word_list
from taglm_tf.lm.pretraining import corpus as lm_corpus
from taglm_tf.lm.pretraining.config import RESET_STATES, PretrainConfig
from taglm_tf.lm.pretraining.conll_text import write_conll_text
from taglm_tf.lm.pretraining.lm_kinds import build_lm, char_encoder_of, model_args
from taglm_tf.lm.pretraining.saving import VOCAB_FILE
from taglm_tf.lm.pretraining.trainer import (
    LMTrainer,
    evaluate_perplexity,
    make_strategy,
    worker_role,
)
from taglm_tf.lm.vocab import COUNTS_SUFFIX, SPECIALS, LMVocabulary
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import check_run_dir, write_text_atomic
from taglm_tf.utils.provenance import git_commit, platform
from taglm_tf.utils.training_loop import interruptible


def corpus_files(config: PretrainConfig) -> list[str]:
    """The files ``train_files`` names (:func:`~taglm_tf.lm.pretraining.corpus.expand_files`'s
    order), without the CoNLL text; ``[]`` when it names none."""
    return lm_corpus.expand_files(config.train_files) if config.train_files else []


def training_files(config: PretrainConfig):
    """Training and held-out file lists (writing the text of ``conll_files`` first); an error if
    there is no training file or a held-out file is also a training file."""
    train = corpus_files(config)
    if config.conll_files:
        train += (
            write_conll_text(lm_corpus.expand_files(config.conll_files), config.model_dir)
            * config.conll_weight
        )
    if not train:
        raise InputError("no training files: give --train_files and/or --conll_train_files")
    heldout = lm_corpus.expand_files(config.heldout_files) if config.heldout_files else []
    overlap = {os.path.realpath(f) for f in train} & {os.path.realpath(f) for f in heldout}
    if overlap:
        raise InputError("is both a training and a held-out file; change --train_files", sorted(overlap)[0])
    return train, heldout


def committed(model_dir: str) -> bool:
    """Whether ``model_dir`` holds a run that started: its ``config.json``, written last and
    atomically once the data and vocabulary are ready, exists. The files a start writes before
    it (``vocab.txt``, ``vocab.txt.counts``, ``conll_text/``) count only then: what a start that
    was killed before that commit left is never read, and the next start replaces it."""
    return os.path.exists(os.path.join(model_dir, run_dir.CONFIG))


def prepare_vocab(config: PretrainConfig, train_files) -> LMVocabulary:
    """The run's vocabulary: ``model_dir/vocab.txt`` of a run that started (:func:`committed`),
    else ``vocab_file``, else built from ``train_files`` (the CoNLL text's copies among them
    left out without ``config.conll_in_vocab``)."""
    own = os.path.join(config.model_dir, VOCAB_FILE)
    if committed(config.model_dir):
        return LMVocabulary.load(own)
    if config.vocab_file:
        vocab = LMVocabulary.load(config.vocab_file)
        if config.normalize_words:
            words = [w for w in vocab.words if w not in SPECIALS]
            unread = [w for w, n in zip(words, normalize_word_list(words)) if w != n]
            if unread:
                raise InputError(
                    f"has {len(unread):,} words that --normalize_words text never holds (e.g. "
                    f"{unread[0]!r}); give a vocabulary built from normalized text",
                    config.vocab_file,
                )
        return vocab
    if not config.conll_in_vocab:
        train_files = corpus_files(config)
    return LMVocabulary.build(
        lm_corpus.iter_tokens(train_files, config.normalize_words), config.vocab_size, config.min_count
    )


def resume_settings(config: dict) -> dict:
    """``{flag: value}`` that a resume must keep: the direction, the state reset, the words'
    normalization, the model and
    the precision (its optimizer state differs under float16's loss scaling); a resume may change
    the other optimisation settings, e.g. ``--train_steps``."""
    settings = {k: config[k] for k in ("direction", "reset_state") if k in config}
    settings["normalize_words"] = config.get("normalize_words", False)
    settings["precision"] = (config.get("train") or {}).get("precision", "float32")
    for key, value in (config.get("model") or {}).items():
        settings["seed" if key == "sampler_seed" else key] = value
    return settings


def check_config(config: PretrainConfig, resume: bool) -> None:
    """Refuse bad settings, to overwrite a run, and to resume one with another model or direction."""
    if config.reset_state not in RESET_STATES:
        raise InputError(
            f"--reset_state must be one of {', '.join(RESET_STATES)}, not {config.reset_state!r}"
        )
    if not config.conll_in_vocab:  # it chooses what a built vocabulary counts
        if not config.conll_files:
            raise InputError("--conll_in_vocab=false needs --conll_train_files")
        if not config.train_files:
            raise InputError("--conll_in_vocab=false builds the vocabulary from --train_files: give them")
        if config.vocab_file:
            raise InputError("--conll_in_vocab=false has no effect with --vocab_file")
    if not check_run_dir(config.model_dir, run_dir.CONFIG, resume):
        return
    path = os.path.join(config.model_dir, run_dir.CONFIG)
    with open(path, encoding="utf-8") as f:
        saved = PretrainConfig.from_dict(json.load(f), path)
    run_dir.refuse_changed_settings(
        resume_settings(dataclasses.asdict(saved)),
        resume_settings(dataclasses.asdict(config)),
        config.model_dir,
    )


def run_model_args(config: PretrainConfig, vocab: LMVocabulary) -> dict:
    """The model's constructor arguments in this run (``reset_id`` from ``reset_state``)."""
    return model_args(config.model, vocab.bos if config.reset_state == "sentence" else -1)


def pretrain(
    config: PretrainConfig, resume: bool = False, strategy: tf.distribute.Strategy | None = None
) -> dict:
    """Train (or continue) an LM as configured; returns the final metrics (``train_result.json``).

    Without ``strategy``, one is made by :func:`make_strategy` after the configuration is
    checked; a caller that makes its own must do so before any other TF op. Ctrl-C or SIGTERM
    while training raises :class:`~taglm_tf.utils.errors.Interrupted` with one line
    (:func:`interrupted_at`).
    """
    start_time = time.time()
    check_config(config, resume)
    train_files, heldout_files = training_files(config)
    strategy = strategy or make_strategy(config.strategy)  # before any other TF op
    is_chief = worker_role(strategy)[0]
    vocab = prepare_vocab(config, train_files)
    num_sampled = config.model.num_sampled
    if not 0 <= num_sampled < vocab.size:
        raise InputError(f"--num_sampled={num_sampled} must be below the vocabulary size {vocab.size}")
    if is_chief:
        write_run_files(config, vocab)
    c = config.train
    tf.keras.utils.set_random_seed(c.seed)
    trainer = LMTrainer(
        strategy,
        lambda: build_lm(config.model.kind, vocab.size, run_model_args(config, vocab)),
        c,
        config.model_dir,
    )
    restored = trainer.restore() if resume else None
    if restored:
        position = tuple(int(v) for v in trainer.data_position.numpy())
        trainer.log(
            f"resumed {restored} at step {trainer.step}, data position {position}, "
            + (
                "exactly (LSTM states and data stream restored)"
                if trainer.exact_resume
                else "approximately (the checkpoint holds no state for this global batch: LSTM states "
                "start from zeros, the data at the chunk of the newest sentence read)"
            )
        )
    corpus = lm_corpus.LMCorpus(
        train_files,
        vocab,
        config.direction,
        shuffle=True,
        seed=c.seed,
        num_epochs=config.epochs or None,
        shuffle_chunk=c.shuffle_chunk,
        interleave=c.interleave,
        chars=char_encoder_of(config.model, vocab),
        normalize=config.normalize_words,
    )
    dataset = lm_corpus.distributed_dataset(
        strategy, corpus, c.batch_size, c.num_steps, trainer.start_position
    )
    params = sum(v.shape.num_elements() for v in trainer.model.trainable_variables)
    trainer.log(
        f"{config.direction} {config.model.kind} LM: vocabulary {vocab.size:,}, {params:,} parameters, "
        f"{strategy.num_replicas_in_sync} replica(s), "
        f"global batch {trainer.global_batch_size} x {c.num_steps}"
    )
    with interruptible(lambda: interrupted_at(trainer), trainer.loop):
        metrics = trainer.fit(dataset, heldout_evaluator(config, heldout_files, vocab))
    result = {
        **metrics,
        "step": trainer.step,
        "parameters": params,
        "vocab_size": vocab.size,
        "replicas": strategy.num_replicas_in_sync,
        "wall_seconds": time.time() - start_time,
    }
    if is_chief:
        run_dir.write_results(config.model_dir, result, run_dir.LM_RESULTS)
    return result


def interrupted_at(trainer: LMTrainer) -> str:
    """Where an LM run stopped on Ctrl-C or SIGTERM, and where ``--resume`` continues."""
    saved = trainer.loop.last_commit()
    then = (
        f"continue from step {saved} (the last checkpoint)"
        if saved is not None
        else "start again (no checkpoint had been saved)"
    )
    return run_dir.interrupted(f"after step {trainer.step}", then)


def write_run_files(config: PretrainConfig, vocab: LMVocabulary) -> None:
    """``vocab.txt`` (+ ``vocab.txt.counts``) and then ``config.json``, the commit. The vocabulary
    files of a run that started are kept; those a killed start left before its commit are
    replaced (a stale ``.counts`` removed when the new vocabulary has none). ``config.json``'s
    ``starts`` lists, for the first start and each resume, its UTC time, code commit and
    platform: a run resumed on another kind of CPU trains other weights than one that never
    moved (:func:`~taglm_tf.utils.provenance.platform`)."""
    os.makedirs(config.model_dir, exist_ok=True)
    path = os.path.join(config.model_dir, run_dir.CONFIG)
    started = committed(config.model_dir)
    earlier = run_dir.read_json(path).get("starts", []) if started else []
    if not started:
        own = os.path.join(config.model_dir, VOCAB_FILE)
        vocab.save(own)
        if vocab.counts is None and os.path.exists(own + COUNTS_SUFFIX):
            os.remove(own + COUNTS_SUFFIX)
    start = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": git_commit(),
        "platform": platform(),
    }
    record = {
        **dataclasses.asdict(config),
        "model_args": run_model_args(config, vocab),
        "vocab_size_actual": vocab.size,
        "starts": [*earlier, start],
    }
    write_text_atomic(path, json.dumps(record, indent=1))


def heldout_evaluator(config: PretrainConfig, files, vocab: LMVocabulary):
    """``model -> metrics`` on the held-out files (full softmax), or ``None`` without them."""
    if not files:
        return None
    heldout = lm_corpus.LMCorpus(
        files,
        vocab,
        config.direction,
        max_sentences=config.heldout_max_sentences or None,
        chars=char_encoder_of(config.model, vocab),
        normalize=config.normalize_words,
    )
    return lambda model: evaluate_perplexity(model, heldout, config.train.batch_size, config.train.num_steps)
