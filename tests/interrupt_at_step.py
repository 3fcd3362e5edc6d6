"""Run a training CLI in this process and signal it at an exact training step, so that lifecycle
tests stop a real run at a known point instead of racing its progress output.

Usage: python tests/interrupt_at_step.py EPOCH STEP SIGNAL MODULE [FLAGS...]
sends SIGNAL (INT, KILL, ...) to this process right after step STEP of epoch EPOCH of
``taglm_tf.training.trainer.Trainer`` (epochs count from 1 as in ``state.json``), then goes on
as ``python -m MODULE FLAGS...`` would.
"""

import os
import runpy
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taglm_tf.training.trainer import Trainer  # noqa: E402


def main():
    epoch, step, name, module, *flags = sys.argv[1:]
    target, sig, seen = (int(epoch), int(step)), getattr(signal, f"SIG{name}"), {}
    train_step = Trainer.train_step

    def counted(self, batch):
        loss = train_step(self, batch)
        seen[self.epoch_running] = seen.get(self.epoch_running, 0) + 1
        if (self.epoch_running, seen[self.epoch_running]) == target:
            os.kill(os.getpid(), sig)
        return loss

    Trainer.train_step = counted
    sys.argv = [module, *flags]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
