"""The paper's learning-rate schedule (§3, "Training").

Train at a constant rate while watching dev F1 each epoch. Once dev F1 has not improved for
``patience`` epochs (or after ``max_constant_epochs``), go back to the best-dev epoch (weights
and optimizer state), divide the rate by 10 and train 5 epochs, divide by 10 again, train 5
more epochs, and stop. With ``anneal_steps=0`` (or ``anneal_epochs=0``) the run stops at the end
of the constant phase, back at the best-dev epoch. The paper does not say how the best epoch is recognised; the patience
rule is our reading, and the restore is what makes "start annealing at the best epoch" exact.
"""

from __future__ import annotations

import dataclasses

CONTINUE, ANNEAL, STOP = "continue", "anneal", "stop"


@dataclasses.dataclass
class AnnealingSchedule:
    """State machine for the schedule; serialisable with :func:`dataclasses.asdict`.

    Args:
        base_lr: the constant rate (0.001 in the paper).
        patience: epochs without dev improvement that end the constant phase.
        max_constant_epochs: hard cap on the constant phase.
        anneal_epochs: epochs per annealing step (5).
        anneal_steps: number of /``factor`` steps (2).
        factor: divisor per step (10).
    """

    base_lr: float = 1e-3
    patience: int = 5
    max_constant_epochs: int = 50
    anneal_epochs: int = 5
    anneal_steps: int = 2
    factor: float = 10.0
    phase: int = 0  # 0 = constant, k = after the k-th division
    epoch: int = 0  # epochs finished
    phase_epochs: int = 0  # epochs finished in the current annealing phase
    best_f1: float = float("-inf")
    best_epoch: int = 0  # best dev epoch of the constant phase (where annealing starts)
    done: bool = False

    @property
    def lr(self) -> float:
        """The learning rate of the current phase: ``base_lr / factor ** phase``."""
        return self.base_lr / self.factor**self.phase

    def record(self, dev_f1: float) -> str:
        """Register the dev F1 of the epoch just finished; return what to do next."""
        if self.done:
            raise RuntimeError("the schedule has already finished")
        self.epoch += 1
        if self.phase == 0:
            if dev_f1 > self.best_f1:
                self.best_f1, self.best_epoch = dev_f1, self.epoch
            stalled = self.epoch - self.best_epoch >= self.patience
            if stalled or self.epoch >= self.max_constant_epochs:
                if self.anneal_steps <= 0 or self.anneal_epochs <= 0:
                    self.done = True
                    return STOP
                self.phase, self.phase_epochs = 1, 0
                return ANNEAL
            return CONTINUE
        self.phase_epochs += 1
        if self.phase_epochs < self.anneal_epochs:
            return CONTINUE
        if self.phase >= self.anneal_steps:
            self.done = True
            return STOP
        self.phase, self.phase_epochs = self.phase + 1, 0
        return CONTINUE

    def back_to_best(self, action: str) -> bool:
        """True if, after ``action``, training goes on (or ends) from the best constant-phase
        epoch: when annealing starts, and when the run stops without annealing."""
        return action == ANNEAL or (action == STOP and self.phase == 0)

    @classmethod
    def from_dict(cls, data: dict | None) -> AnnealingSchedule:
        """The schedule a :func:`dataclasses.asdict` dict describes; a new one if ``data`` is empty
        or None."""
        return cls(**data) if data else cls()
