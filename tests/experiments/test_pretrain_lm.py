"""The LM pretraining and evaluation CLIs: resume after SIGKILL, evaluation, a two-process
MultiWorkerMirroredStrategy run against one process, and clean errors."""

import fnmatch
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import sigint_as_in_a_terminal
from experiments import lm_flags
from flag_helpers import parse_flagfile
from taglm_tf.lm.frozen.loading import lm_perplexities
from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig, LMTrainConfig, LSTMLMConfig, PretrainConfig
from taglm_tf.lm.pretraining.run import pretrain
from taglm_tf.lm.pretraining.saving import model_from_record, recorded_perplexity
from taglm_tf.lm.pretraining.trainer import LMTrainer
from taglm_tf.lm.vocab import LMVocabulary

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = [
    "--embedding_dim=8",
    "--num_cells=12",
    "--projection_dim=6",
    "--num_sampled=5",
    "--num_steps=5",
    "--strategy=default",
]
TINY_KIND = {
    "lstm": [],
    "cnn_lstm": [
        "--lm_kind=cnn_lstm",
        "--char_dim=4",
        "--conv_widths=1,2",
        "--conv_filters=4,6",
        "--num_highway=1",
        "--max_word_length=8",
        "--use_peepholes",
    ],
}


def command(module, *args):
    return [sys.executable, "-m", f"experiments.{module}", *args]


def run(module, *args, env=None, timeout=180):
    return subprocess.run(
        command(module, *args),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Runs of consecutive words of a 12-word cycle; a held-out file of the same kind."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    for name, n in (("train.txt", 300), ("heldout.txt", 30)):
        lines = [
            " ".join(f"w{(s + k) % 12}" for k in range(n_words))
            for s, n_words in zip(rng.integers(0, 12, n), rng.integers(2, 7, n))
        ]
        (root / name).write_text("\n".join(lines) + "\n")
    return root


def checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {
        name: reader.get_tensor(name)
        for name, _ in tf.train.list_variables(prefix)
        if name.startswith(("model/", "optimizer/"))
    }


# One kind runs the checks that no LM kind changes, each a process start that imports TensorFlow:
# a run without --resume is refused before any model is built, --task_split only changes the text
# evaluated, and --record only writes perplexity.json beside the checkpoint.
SHARED_CHECKS_KIND = "lstm"


@pytest.mark.parametrize("kind", sorted(TINY_KIND))
def test_resume_after_kill_then_evaluate(corpus, tmp_path, kind):
    model_dir = tmp_path / "lm"
    args = [
        f"--model_dir={model_dir}",
        f"--train_files={corpus}/train.txt",
        "--batch_size=4",
        "--checkpoint_every=5",
        "--log_every=5",
        *TINY,
        *TINY_KIND[kind],
    ]
    process = subprocess.Popen(
        command("pretrain_lm", *args, "--train_steps=100000"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = (
            time.time() + 600
        )  # a guard against a hang, not a speed test: start-up is slow on a loaded machine
        while not (model_dir / "checkpoints" / "checkpoint").exists():
            assert process.poll() is None and time.time() < deadline, "no checkpoint written"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    latest = tf.train.latest_checkpoint(str(model_dir / "checkpoints"))
    saved_step = int(latest.rsplit("-", 1)[1])
    assert saved_step % 5 == 0 and saved_step >= 5

    if kind == SHARED_CHECKS_KIND:
        refused = run("pretrain_lm", *args, "--train_steps=1000")
        assert refused.returncode == 1 and "--resume" in refused.stderr.strip().splitlines()[-1]

    # what a resumed run restores: the checkpoint's step and optimizer state, exactly
    saved_config = json.loads((model_dir / "config.json").read_text())
    config = PretrainConfig.from_dict(saved_config)
    assert config.model.kind == saved_config["model"]["kind"] == kind
    vocab = LMVocabulary.load(str(model_dir / "vocab.txt"))
    trainer = LMTrainer(
        tf.distribute.get_strategy(),
        lambda: model_from_record(saved_config, vocab.size),
        config.train,
        str(model_dir),
    )
    assert trainer.restore() == latest and trainer.step == saved_step
    saved = checkpoint_values(latest)
    slots = trainer.optimizer.variables[1:]  # [0] is the step counter
    assert len(slots) == len(trainer.model.trainable_variables) and all(
        "accumulator" in v.name for v in slots
    )
    for i, slot in enumerate(slots, start=1):
        np.testing.assert_array_equal(
            slot.numpy(), saved[f"optimizer/_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"]
        )
    assert any(not np.allclose(v.numpy(), 1.0) for v in slots)  # Adagrad state moved off its init
    reader = tf.train.load_checkpoint(latest)
    assert trainer.exact_resume  # the packer state and every row's LSTM state were saved
    np.testing.assert_array_equal(
        trainer.start_position, reader.get_tensor("data_state/.ATTRIBUTES/VARIABLE_VALUE")
    )

    resumed = run("pretrain_lm", *args, f"--train_steps={saved_step + 3}", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {latest} at step {saved_step}" in resumed.stdout
    assert json.loads((model_dir / "train_result.json").read_text())["step"] == saved_step + 3

    output = tmp_path / "eval.json"
    evaluated = run(
        "eval_lm",
        f"--model_dir={model_dir}",
        f"--eval_files={corpus}/heldout.txt",
        "--batch_size=3",
        "--num_steps=5",
        f"--output={output}",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(output.read_text())
    lines = (corpus / "heldout.txt").read_text().splitlines()
    assert result["tokens"] == sum(len(line.split()) + 1 for line in lines)  # words and </S>
    assert result["sentences"] == len(lines) and result["unk_tokens"] == 0
    assert 1 < result["perplexity"] < 15 and f"perplexity {result['perplexity']:.2f}" in evaluated.stdout
    if kind == SHARED_CHECKS_KIND:
        check_task_split_and_record(
            model_dir, corpus, tmp_path, result["perplexity"], saved_step + 3, saved_step
        )


def check_task_split_and_record(model_dir, corpus, tmp_path, perplexity, step, older_step):
    """eval_lm on a finished LM run at checkpoint ``step`` whose held-out perplexity is ``perplexity``:
    --task_split reads a tagging task's text as the tagger reads it, and refuses bad splits;
    --record stores the perplexity for that checkpoint only (not for ``older_step``'s)."""
    data = tmp_path / "data" / "conll2003"
    data.mkdir(parents=True)
    (data / "eng.testb").write_text("-DOCSTART- -X- O O\n\nthe NN I-NP O\ncat NN I-NP O\n\ndog NN I-NP O\n")
    on_task = run(
        "eval_lm",
        f"--model_dir={model_dir}",
        "--task_split=ner:test",
        f"--data_dir={tmp_path / 'data'}",
        "--batch_size=3",
        "--num_steps=5",
        f"--output={tmp_path / 'task.json'}",
    )
    assert on_task.returncode == 0, on_task.stderr
    task_result = json.loads((tmp_path / "task.json").read_text())
    assert (task_result["sentences"], task_result["tokens"], task_result["files"]) == (2, 5, ["ner:test"])
    for bad, message in (
        ("ner:testb", "expected TASK:SPLIT"),
        ("chunking:dev", "chunking has no dev file"),
    ):
        refused = run(
            "eval_lm", f"--model_dir={model_dir}", f"--task_split={bad}", f"--data_dir={tmp_path / 'data'}"
        )
        assert refused.returncode == 1 and message in refused.stderr and refused.stderr.count("\n") == 1

    # --record: stored beside the LM, read back for tagger runs while it describes the latest checkpoint
    assert recorded_perplexity(str(model_dir)) is None
    recorded = run(
        "eval_lm",
        f"--model_dir={model_dir}",
        f"--eval_files={corpus}/heldout.txt",
        "--batch_size=3",
        "--num_steps=5",
        "--record",
    )
    assert recorded.returncode == 0, recorded.stderr
    assert recorded_perplexity(str(model_dir)) == pytest.approx(perplexity)
    assert lm_perplexities({"forward_lm": f"lstm_lm:{model_dir}", "backward_lm": None}) == {
        "forward": pytest.approx(perplexity)
    }
    record = model_dir / "perplexity.json"
    record.write_text(record.read_text().replace(f"ckpt-{step}", f"ckpt-{older_step}"))
    assert recorded_perplexity(str(model_dir)) is None  # an older checkpoint's number is not reported


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_worker_multi_worker_mirrored_stopped_and_resumed_matches_one_process(corpus, tmp_path):
    """Two workers of MultiWorkerMirroredStrategy; SIGTERM to worker 1 alone after step 4, in the
    middle of the unit ending at 6: both workers end after step 4 with the same line and commit
    it; resumed, they train to step 6 the model that one process trains in 6 steps."""
    steps, common = (
        6,
        [f"--train_files={corpus}/train.txt", "--checkpoint_every=3", "--log_every=3", *TINY[:-1]],
    )

    def workers(*extra, stop_worker_1_after=None):
        cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
        argv = command(
            "pretrain_lm",
            f"--model_dir={tmp_path / 'multi'}",
            "--batch_size=2",
            f"--train_steps={steps}",
            "--strategy=multi_worker",
            *common,
            *extra,
        )
        stopped = [
            sys.executable,
            os.path.join(REPO, "tests", "interrupt_at_step.py"),
            "lm",
            str(stop_worker_1_after),
        ]
        processes = [
            subprocess.Popen(
                [*stopped, "TERM", *argv[2:]] if i == 1 and stop_worker_1_after else argv,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={
                    **os.environ,
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                    "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
                },
            )
            for i in range(2)
        ]
        try:
            outputs = [p.communicate(timeout=150)[0] for p in processes]
        finally:
            for p in processes:
                p.kill()
        return [p.returncode for p in processes], outputs

    codes, outputs = workers(stop_worker_1_after=4)
    assert codes == [130, 130], outputs[0][-2000:] + outputs[1][-2000:]
    for output in outputs:
        assert output.strip().splitlines()[-1] == (
            "interrupted after step 4; rerun with --resume to continue from step 4 (the last checkpoint)"
        )
    codes, outputs = workers("--resume")
    assert codes == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert "resumed" in outputs[0] and "at step 4" in outputs[0]
    assert not list(tmp_path.glob("multi/worker_tmp_*"))

    config = PretrainConfig(
        model_dir=str(tmp_path / "single"),
        train_files=f"{corpus}/train.txt",
        model=LSTMLMConfig(embedding_dim=8, num_cells=12, projection_dim=6, num_sampled=5, sampler_seed=1),
        train=LMTrainConfig(batch_size=4, num_steps=5, train_steps=steps, checkpoint_every=3, log_every=3),
    )
    single = pretrain(config, strategy=tf.distribute.get_strategy())
    multi = json.loads((tmp_path / "multi" / "train_result.json").read_text())
    assert multi["replicas"] == 2 and multi["step"] == single["step"] == steps
    ours, theirs = (
        checkpoint_values(str(tmp_path / d / "checkpoints" / f"ckpt-{steps}")) for d in ("single", "multi")
    )
    assert ours.keys() == theirs.keys()
    for name, value in ours.items():  # weights and optimizer slots
        np.testing.assert_allclose(theirs[name], value, atol=1e-5, rtol=0, err_msg=name)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--train_files=/nonexistent/shard-*"], "/nonexistent/shard-*: matches no file"),
        (["--num_sampled=50"], "--num_sampled=50 must be below the vocabulary size 15"),
        ([], "is both a training and a held-out file"),
    ],
)
def test_bad_input_is_one_clean_line(corpus, tmp_path, extra, message):
    args = [
        f"--model_dir={tmp_path / 'lm'}",
        f"--train_files={corpus}/train.txt",
        f"--heldout_files={corpus}/train.txt" if not extra else f"--heldout_files={corpus}/heldout.txt",
        *TINY,
        *extra,
    ]
    result = run("pretrain_lm", *args)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert not (tmp_path / "lm" / "checkpoints").exists()


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(REPO, "experiments/flags/lm_*.cfg"))), ids=os.path.basename
)
def test_lm_flagfiles(path):
    fv = parse_flagfile(lm_flags.define_pretrain_flags, path, "--model_dir=/tmp/x", "--data_dir=/nonexistent")
    config = lm_flags.pretrain_config_from_flags(fv)
    name = os.path.basename(path)
    assert config.direction == ("backward" if "backward" in name else "forward")
    assert config.reset_state == "sentence" and config.model.use_peepholes is (
        config.model.kind == "cnn_lstm"
    )
    assert config.train.optimizer == "adagrad" and config.train.learning_rate == 0.2
    if "2048_512" in name:
        assert {
            k: getattr(config.model, k)
            for k in ("embedding_dim", "num_cells", "projection_dim", "num_layers", "num_sampled")
        } == dict(embedding_dim=512, num_cells=2048, projection_dim=512, num_layers=1, num_sampled=8192)
        assert (config.train.batch_size, config.train.num_steps, config.min_count) == (128, 20, 3)
    elif name == "lm_cnn_big_lstm.cfg":  # the release's CNN-BIG-LSTM shapes, on 1B Word
        assert config.model == CNNLSTMLMConfig(dropout=0.25, sampler_seed=config.train.seed)
        assert (config.model.conv_filters, config.model.num_cells, config.model.projection_dim) == (
            (32, 32, 64, 128, 256, 512, 1024, 2048),
            8192,
            1024,
        )
        assert "1-billion-word" in config.train_files and config.strategy == "auto"
    elif name == "lm_demo_sample.cfg":  # the demo without data: the shipped synthetic text
        assert os.path.isfile(os.path.join(REPO, config.train_files)) and config.heldout_files is None
    else:  # CPU-sized: the news corpus for training (CoNLL text alone for Table 6's LSTM-512-256*),
        # 1B Word heldout shards only for evaluation
        if "conll_only" in name:
            assert config.train_files == "" and config.conll_files.endswith("conll2003/eng.train")
        else:
            assert config.train_files.endswith(".tok.txt.xz")
        assert config.strategy == "default"
        for heldout in ("lm1b_heldout_shards10-11.tokens.gz", "lm1b_heldout_shards12-13.tokens.gz"):
            assert not fnmatch.fnmatch(f"unlabeled/{heldout}", config.train_files)
        assert "lm1b_heldout_shards10-11" in config.heldout_files
        if "cnn_lstm" in name:  # lm_1b's layout (peepholes, 50-char words): loadable as lm1b:
            assert config.model.kind == "cnn_lstm" and config.model.max_word_length == 50
            size = (
                config.model.projection_dim,
                config.model.num_cells,
                sum(config.model.conv_filters),
                config.model.num_highway,
            )
            assert size == ((256, 2048, 1024, 2) if "_m_cpu" in name else (256, 1024, 512, 1))  # M, S


def test_ctrl_c_is_one_line_and_resume_refuses_another_model(corpus, tmp_path):
    """Ctrl-C: one line naming the step and the checkpoint --resume continues from, exit 130;
    --resume with another model is one error line naming the flags."""
    model_dir = tmp_path / "lm"
    args = [
        f"--model_dir={model_dir}",
        f"--train_files={corpus}/train.txt",
        "--batch_size=4",
        "--checkpoint_every=5",
        "--log_every=5",
        *TINY,
    ]
    process = subprocess.Popen(
        command("pretrain_lm", *args, "--train_steps=100000"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        preexec_fn=sigint_as_in_a_terminal,
    )
    try:
        deadline = time.time() + 300
        while not (model_dir / "checkpoints" / "checkpoint").exists():
            assert process.poll() is None and time.time() < deadline, "no checkpoint written"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130 and "Traceback" not in err
    saved_step = int(tf.train.latest_checkpoint(str(model_dir / "checkpoints")).rsplit("-", 1)[1])
    last = err.strip().splitlines()[-1]
    step = int(last.split("interrupted after step ", 1)[1].split(";")[0])
    assert step >= saved_step >= 5
    assert last == (
        f"interrupted after step {step}; rerun with --resume to continue from step "
        f"{saved_step} (the last checkpoint)"
    )
    refused = run(
        "pretrain_lm",
        *args,
        "--num_cells=16",
        "--direction=backward",
        "--precision=mixed_bfloat16",
        "--resume",
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {model_dir}/config.json: --resume with settings other than the run's: "
        '--direction ("forward" saved, "backward" given), --num_cells (12 saved, 16 given), '
        '--precision ("float32" saved, "mixed_bfloat16" given); '
        "drop these flags to continue the run, or use a new --model_dir"
    )
