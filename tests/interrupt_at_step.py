"""Run a training CLI in this process and signal it at an exact training step, so that lifecycle
tests stop a real run at a known point instead of racing its progress output.

Usage: python tests/interrupt_at_step.py EPOCH STEP SIGNAL MODULE [FLAGS...]
sends SIGNAL (INT, KILL, ...) to this process right after step STEP of epoch EPOCH of
``taglm_tf.training.trainer.Trainer`` (epochs count from 1 as in ``state.json``), then goes on
as ``python -m MODULE FLAGS...`` would. With ``lm`` for EPOCH, right after the LM trainer's
global step STEP (``LMTrainer.step``, counted from 1 over resumes).
"""

import os
import runpy
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taglm_tf.lm.pretraining.trainer import LMTrainer  # noqa: E402
from taglm_tf.training.trainer import Trainer  # noqa: E402


def signal_after_lm_step(step: int, sig: signal.Signals) -> None:
    train_step = LMTrainer.train_step

    def counted(self, batch, states):
        result = train_step(self, batch, states)
        if self.step == step:
            os.kill(os.getpid(), sig)
        return result

    LMTrainer.train_step = counted


def signal_after_tagger_step(epoch: int, step: int, sig: signal.Signals) -> None:
    train_step, seen = Trainer.train_step, {}

    def counted(self, batch):
        loss = train_step(self, batch)
        seen[self.epoch_running] = seen.get(self.epoch_running, 0) + 1
        if (self.epoch_running, seen[self.epoch_running]) == (epoch, step):
            os.kill(os.getpid(), sig)
        return loss

    Trainer.train_step = counted


def main():
    epoch, step, name, module, *flags = sys.argv[1:]
    sig = getattr(signal, f"SIG{name}")
    if epoch == "lm":
        signal_after_lm_step(int(step), sig)
    else:
        signal_after_tagger_step(int(epoch), int(step), sig)
    sys.argv = [module, *flags]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
