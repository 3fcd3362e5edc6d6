"""Keras' GRU and LSTM, minus the cuDNN kernel's trace on machines without a GPU.

In a graph, Keras' GRU and LSTM run their CPU kernel and also *register* the cuDNN kernel with
its gradient (``gru_lstm_utils.function_register``) so that Grappler can swap it in on a GPU.
Registering traces that kernel, which costs more than half of a small tagger's start-up on a
CPU (a tiny NER run took 76 s with it, 33 s without). Without a
visible GPU it can never be chosen, so these layers skip it; with a GPU they are Keras' layers
unchanged. The weights, the computation and the results are the same either way.

A SavedModel exported on a machine without a GPU therefore carries the CPU kernel only; served
on a GPU it runs that kernel there (correct, slower).
"""
from __future__ import annotations

import contextlib
import importlib
import threading

import tensorflow as tf
from tensorflow import keras

_LOCK = threading.RLock()


def _skip_registration(*args, **kwargs):
    return None


@contextlib.contextmanager
def _cpu_kernel_only():
    """Within the block, Keras' GRU and LSTM register no cuDNN kernel (when no GPU is visible)."""
    # keras.src (TF 2.15) or tf_keras.src (current stack); both layers call this one module.
    utils = getattr(importlib.import_module(keras.layers.GRU.__module__), "gru_lstm_utils", None)
    if utils is None or not hasattr(utils, "function_register") or tf.config.list_logical_devices("GPU"):
        yield  # another Keras layout, or a GPU that may use the kernel: change nothing
        return
    with _LOCK:
        registered = utils.function_register
        utils.function_register = _skip_registration
        try:
            yield
        finally:
            utils.function_register = registered


class _CpuKernelOnly:
    # The explicit signature matters: Keras passes `mask` and `training` only to a `call` naming them.
    def call(self, inputs, mask=None, training=None, initial_state=None):
        with _cpu_kernel_only():
            return super().call(inputs, mask=mask, training=training, initial_state=initial_state)


@keras.saving.register_keras_serializable(package="taglm_tf")
class GRU(_CpuKernelOnly, keras.layers.GRU):
    """``keras.layers.GRU`` (same arguments, weights and outputs), built without the unusable
    cuDNN kernel when no GPU is visible. See the module docstring.

    Args:
        units: output size; all other arguments as ``keras.layers.GRU``.

    Call arguments and returns: as ``keras.layers.GRU`` (``[B, T, D]`` float inputs, optional
    ``[B, T]`` bool mask; ``[B, units]`` or ``[B, T, units]`` with ``return_sequences``).
    """


@keras.saving.register_keras_serializable(package="taglm_tf")
class LSTM(_CpuKernelOnly, keras.layers.LSTM):
    """``keras.layers.LSTM`` (same arguments, weights and outputs), built without the unusable
    cuDNN kernel when no GPU is visible. See the module docstring.

    Args:
        units: output size; all other arguments as ``keras.layers.LSTM``.

    Call arguments and returns: as ``keras.layers.LSTM``.
    """


RNN_LAYERS = {"gru": GRU, "lstm": LSTM}
