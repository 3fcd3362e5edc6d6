"""Keras' GRU and LSTM, minus the cuDNN kernel's trace on machines without a GPU.

In a graph, Keras' GRU and LSTM run their CPU kernel and also *register* the cuDNN kernel with
its gradient (``gru_lstm_utils.function_register``) so that Grappler can swap it in on a GPU.
Registering traces that kernel, which costs more than half of a small tagger's start-up on a
CPU (a tiny NER run took 76 s with it, 33 s without). Without a
visible GPU it can never be chosen, so these layers skip it (:func:`skip_cudnn_registration`,
which patches a private Keras function for the duration of ``call``); with a GPU they are Keras'
layers unchanged. The weights, the computation and the results are the same either way.

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
# The private Keras function patched here, in the module of ``keras.layers.GRU`` (``keras.src`` on
# TF 2.15, ``tf_keras.src`` on the current stack). No public setting skips the registration and
# keeps the computation: only arguments that change it (``recurrent_dropout``, a non-default
# activation, ``unroll`` with its fixed length) take Keras' other code path.
PATCHED_NAME = "gru_lstm_utils.function_register"


def cudnn_registration_module():
    """The Keras module whose ``function_register`` GRU and LSTM call to register their cuDNN
    kernel (``PATCHED_NAME``), or None when this Keras has no such function: then
    :func:`skip_cudnn_registration` changes nothing and the layers trace the kernel as Keras'
    own do (slower start-up, same results); the tests fail on such a Keras."""
    module_name, function_name = PATCHED_NAME.split(".")
    module = getattr(importlib.import_module(keras.layers.GRU.__module__), module_name, None)
    return module if callable(getattr(module, function_name, None)) else None


def _skip_registration(*args, **kwargs):
    return None


@contextlib.contextmanager
def skip_cudnn_registration():
    """A patch of private Keras, in force within the block: Keras' GRU and LSTM register no cuDNN
    kernel, by replacing ``PATCHED_NAME`` with a no-op (restored on leaving
    the block, also on an error; a lock keeps threads from interleaving the swap). Does nothing
    when a GPU is visible (the kernel may then be used) or when :func:`cudnn_registration_module`
    finds no such function."""
    module = cudnn_registration_module()
    if module is None or tf.config.list_logical_devices("GPU"):
        yield
        return
    function_name = PATCHED_NAME.split(".")[1]
    with _LOCK:
        registered = getattr(module, function_name)
        setattr(module, function_name, _skip_registration)
        try:
            yield
        finally:
            setattr(module, function_name, registered)


class _CpuKernelOnly:
    # The explicit signature matters: Keras passes `mask` and `training` only to a `call` naming them.
    def call(self, inputs, mask=None, training=None, initial_state=None):
        with skip_cudnn_registration():
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
