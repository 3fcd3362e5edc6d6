"""The paper's annealing schedule on fake dev-F1 sequences."""

import dataclasses

import pytest

from taglm_tf.training.schedule import ANNEAL, CONTINUE, STOP, AnnealingSchedule


def run(schedule, f1s):
    """Feed F1 values until the schedule stops; return (lr used per epoch, actions)."""
    lrs, actions = [], []
    for f1 in f1s:
        lrs.append(schedule.lr)
        actions.append(schedule.record(f1))
        if actions[-1] == STOP:
            break
    return lrs, actions


def test_constant_phase_then_two_annealing_steps_of_five_epochs():
    schedule = AnnealingSchedule(base_lr=1e-3, patience=3)
    f1s = [50, 60, 70, 65, 69, 68] + [0] * 20  # best at epoch 3, patience runs out at epoch 6
    lrs, actions = run(schedule, f1s)
    assert actions[:6] == [CONTINUE] * 5 + [ANNEAL]
    assert schedule.best_epoch == 3 and schedule.best_f1 == 70
    assert lrs == pytest.approx([1e-3] * 6 + [1e-4] * 5 + [1e-5] * 5)
    assert actions[-1] == STOP and len(actions) == 16 and schedule.done


def test_improvements_during_annealing_do_not_move_the_restart_point():
    schedule = AnnealingSchedule(patience=1)
    run(schedule, [10, 5, 99, 99, 99, 99, 99, 1, 1, 1, 1, 1])
    assert schedule.best_epoch == 1 and schedule.done


def test_max_constant_epochs_caps_the_constant_phase():
    schedule = AnnealingSchedule(patience=100, max_constant_epochs=4, anneal_epochs=2)
    lrs, actions = run(schedule, range(1, 100))
    assert actions[3] == ANNEAL and schedule.best_epoch == 4
    assert len(actions) == 4 + 2 + 2


def test_state_round_trips_through_a_dict():
    schedule = AnnealingSchedule(patience=2)
    run(schedule, [1, 2, 3])
    copy = AnnealingSchedule.from_dict(dataclasses.asdict(schedule))
    assert copy == schedule
    assert run(copy, [0] * 30) == run(schedule, [0] * 30)


def test_recording_after_stop_is_an_error():
    schedule = AnnealingSchedule(patience=1, anneal_epochs=1, anneal_steps=1)
    run(schedule, [1, 0, 0])
    assert schedule.done
    with pytest.raises(RuntimeError):
        schedule.record(1.0)


@pytest.mark.parametrize("steps,epochs", [(0, 5), (2, 0)])
def test_no_annealing_stops_after_the_constant_phase(steps, epochs):
    schedule = AnnealingSchedule(patience=2, anneal_steps=steps, anneal_epochs=epochs)
    lrs, actions = run(schedule, [10, 20, 15, 15, 99, 99])
    assert actions == [CONTINUE, CONTINUE, CONTINUE, STOP]
    assert lrs == pytest.approx([1e-3] * 4)
    assert schedule.done and schedule.best_epoch == 2 and schedule.phase == 0
    assert schedule.back_to_best(STOP)


def test_stop_after_annealing_keeps_the_last_epoch():
    schedule = AnnealingSchedule(patience=1, anneal_epochs=1, anneal_steps=1)
    _, actions = run(schedule, [1, 0, 0])
    assert actions == [CONTINUE, ANNEAL, STOP]
    assert schedule.back_to_best(ANNEAL) and not schedule.back_to_best(STOP)
