"""The console scripts that ``setup.py`` installs, each the same command as a ``python -m``.

Each function runs its module as ``python -m MODULE`` does (:func:`runpy.run_module` as
``__main__``, with ``sys.argv[0]`` set to the module's file), so the module's own
``if __name__ == "__main__"`` blocks run in the same order: the process settings
(:func:`taglm_tf.utils.cli.configure_process`) before anything imports TensorFlow, then its
main through :func:`taglm_tf.utils.cli.run`, with the module's docstring as ``--help`` text.
Importing a command module's ``main`` directly instead would skip those settings.

The modules are named, not imported, so this module imports nothing above it. A new command is a
function here and its line in ``setup.py``'s ``console_scripts``.
"""

import runpy


def _run(module: str) -> None:
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def tag() -> None:
    """``taglm-tag``: ``python -m taglm_tf.tag``."""
    _run("taglm_tf.tag")


def export() -> None:
    """``taglm-export``: ``python -m taglm_tf.export``."""
    _run("taglm_tf.export")


def conlleval() -> None:
    """``taglm-conlleval``: ``python -m taglm_tf.conlleval``."""
    _run("taglm_tf.conlleval")


def train() -> None:
    """``taglm-train``: ``python -m experiments.train_tagger``."""
    _run("experiments.train_tagger")


def brat_eval() -> None:
    """``taglm-brat-eval``: ``python -m experiments.brat_eval``."""
    _run("experiments.brat_eval")


def pretrain_lm() -> None:
    """``taglm-pretrain-lm``: ``python -m experiments.pretrain_lm``."""
    _run("experiments.pretrain_lm")


def eval_lm() -> None:
    """``taglm-eval-lm``: ``python -m experiments.eval_lm``."""
    _run("experiments.eval_lm")


def lm1b_dump_lstm_emb() -> None:
    """``taglm-lm1b-dump-lstm-emb``: ``python -m lm_1b_export.dump_lstm_emb``."""
    _run("lm_1b_export.dump_lstm_emb")


def lm1b_export() -> None:
    """``taglm-lm1b-export``: ``python -m lm_1b_export.export``."""
    _run("lm_1b_export.export")


def lm1b_from_pretrained() -> None:
    """``taglm-lm1b-from-pretrained``: ``python -m lm_1b_export.from_pretrained``."""
    _run("lm_1b_export.from_pretrained")
