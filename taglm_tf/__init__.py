"""TagLM-TF: semi-supervised sequence tagging with bidirectional LMs (Peters et al., 2017).

Importing this package selects Keras 2 for TensorFlow: where ``tf_keras`` is installed (the
current-TF stack), ``TF_USE_LEGACY_KERAS=1`` makes TensorFlow load it as ``tf.keras`` instead of
Keras 3. On the TF 2.15 stack, Keras 2 is built in and the variable stays unset (TF 2.15 honours it
too, and would then fail for want of ``tf_keras``). It has to be set before TensorFlow is first
imported, so every entry point imports ``taglm_tf`` first: the packages ``experiments``,
``lm_1b_export`` and ``benchmarks`` do it in their ``__init__``, ``tools.lm1b.make_synthetic`` at
its top (``tools.lm1b.reference`` imports no project code), and so does ``tests/conftest.py``.

Importing it changes nothing else in the process: the command-line tools' settings (TensorFlow's
log level, oneDNN, glibc's mmap threshold) are made by :func:`taglm_tf.utils.cli.configure_process`, which
each entry point calls before it imports TensorFlow.

Keras 3 cannot load this project's models: on TensorFlow >= 2.16 without ``tf_keras``, importing
the package raises an :class:`ImportError` saying what to install (under ``python -m``, where the
entry point's package is being imported, it exits with that one line instead of a traceback).

``from taglm_tf import Tagger`` gives the Python API (:class:`taglm_tf.serving.api.Tagger`).
"""

import importlib.metadata
import importlib.util
import os
import sys


def _keras_major() -> int:
    """The major version of the installed ``keras`` (0 if none), from its ``.dist-info`` folder
    name. Not ``importlib.metadata``: it reads every package's metadata, costs time on each
    import, and leaves glibc's heap such that freed large blocks go back to the system, which
    would hide the fragmentation :mod:`taglm_tf.utils.memory` is about."""
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.origin:
        return 0
    try:
        site = os.path.dirname(os.path.dirname(spec.origin))
        found = [n for n in os.listdir(site) if n.startswith("keras-") and n.endswith(".dist-info")]
    except OSError:  # keras in a zip file
        found = []
    if len(found) == 1 and found[0][6:7].isdigit():
        return int(found[0][6:].split(".")[0])
    try:  # none, or stale ones beside the real one: ask the slow, thorough way
        return int(importlib.metadata.version("keras").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


def _keras2_missing() -> str:
    """What to install when only Keras 3 is there ("" when Keras 2 is available)."""
    if importlib.util.find_spec("tf_keras") is not None or _keras_major() < 3:
        return ""  # Keras 2, or no Keras at all (TensorFlow's own import error then says more)
    pin = "tf_keras"
    for dist in ("tensorflow-cpu", "tensorflow", "tensorflow-intel"):
        try:
            pin = "tf_keras==%s.*" % ".".join(importlib.metadata.version(dist).split(".")[:2])
            break
        except importlib.metadata.PackageNotFoundError:
            continue
    return (
        f"TagLM-TF needs Keras 2, and only Keras 3 is installed: "
        f"pip install --no-deps '{pin}' (README, 'Set-up')"
    )


def _running_own_entry_point() -> bool:
    """True while ``python -m`` imports the package of one of this project's entry points (runpy
    sets ``sys.argv[0]`` to ``-m`` until the module itself runs), or while one of the project's
    console scripts (``taglm-*``, setup.py) imports it."""
    if sys.argv[:1] and os.path.basename(sys.argv[0]).startswith("taglm-"):
        return True
    if sys.argv[:1] != ["-m"]:
        return False
    return _module_of(getattr(sys, "orig_argv", [])).split(".")[0] in (
        "taglm_tf",
        "experiments",
        "benchmarks",
        "lm_1b_export",
        "tools",
    )


def _module_of(argv) -> str:
    """The module of ``python [options] -m MODULE ...``, also in joined forms (``-mMODULE``,
    ``-Im MODULE``, ``-OOmMODULE``); "" when there is none."""
    args = iter(argv[1:])
    for arg in args:
        if not arg.startswith("-") or arg.startswith("--") or arg == "-":
            return ""
        for j, flag in enumerate(arg[1:], 1):
            if flag == "m":
                return arg[j + 1 :] or next(args, "")
            if flag in "cWX":  # options with a value: the rest of the word, else the next word
                if flag == "c":
                    return ""
                if j == len(arg) - 1:
                    next(args, "")
                break
    return ""


_MISSING = _keras2_missing()
if _MISSING:
    if _running_own_entry_point():  # one line, as every CLI reports bad set-up
        raise SystemExit(f"error: {_MISSING}")
    raise ImportError(_MISSING)
if importlib.util.find_spec("tf_keras") is not None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__all__ = ["Tagger"]


def __getattr__(name):
    if name == "Tagger":
        # Imported on first use: the API imports TensorFlow (~2 s), which `import taglm_tf.data`
        # or the CLIs' --help should not pay for.
        from taglm_tf.serving.api import Tagger

        return Tagger
    raise AttributeError(f"module 'taglm_tf' has no attribute {name!r}")
