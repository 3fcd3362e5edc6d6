"""Shared behaviour of the command-line tools."""

from __future__ import annotations

import argparse
import builtins
import importlib.util
import io
import os
import re
import sys
from typing import NoReturn

from absl import app, flags, logging
from absl.flags import _flagvalues

from taglm_tf.utils import memory, textio
from taglm_tf.utils.config_flags import absl_module_name, calling_module
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import check_output_path, default_data_dir

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
HELP_OPTIONS = ("-?", "-h", "--help", "--helpshort", "--helpfull", "--helpxml")
# Output flags and the input flags they must not overwrite, checked by run() before main.
_OUTPUT_FLAGS = {}


def configure_process(fix_mmap_threshold: bool = False, birnn_threads: bool = False) -> None:
    """The process-wide settings of a command-line tool, which ``import taglm_tf`` leaves alone.

    Every entry point calls it first, before its imports reach TensorFlow, which reads these
    variables when it is imported::

        from taglm_tf.utils import cli

        if __name__ == "__main__":
            cli.configure_process()

    It sets two TensorFlow variables unless the environment sets them, so that stderr holds only
    the project's own messages:

    - ``TF_CPP_MIN_LOG_LEVEL=2``: TensorFlow's C++ start-up notices (CPU features, the tf.data
      memory patch) and its known-harmless graph type-inference warning. ``=0`` shows them again.
    - on the current stack (``tf_keras`` installed) only, ``TF_ENABLE_ONEDNN_OPTS=0``:
      TensorFlow's oneDNN CPU kernels off. On CPUs with AVX-512, TF 2.21 announces them with lines
      that no log level hides (its C++ logging starts before its log settings are read), one of
      them a spurious error about DT_BOOL. The price, measured on such a CPU: the tagger trains
      ~17% slower (decoding within noise), with identical tags (README, FAQ "oneDNN").
      ``TF_ENABLE_ONEDNN_OPTS=1`` turns them on again, lines included. TF 2.15 (the card's stack)
      keeps its own default: it logs nothing about oneDNN below ``TF_CPP_MIN_LOG_LEVEL=2``.

    Args:
        birnn_threads: the thread pools for the tagger's tools (training, tagging and their
            benchmarks), unless the environment sets them: ``TF_NUM_INTRAOP_THREADS`` half the
            CPUs this process may use (at least 1) and ``TF_NUM_INTEROP_THREADS=2``, so that the two directions of
            each BiRNN run side by side, each on its own cores, instead of one after the other
            with every op split over all cores. Measured on 2 cores (AMD EPYC with AVX-512):
            decoding 7-10% faster and training 23-36% on the card's stack, 17-25% and 44-53% on
            the current one; the same tags and the same training to the last digit. The LM
            tools keep TensorFlow's defaults: one LSTM has no second direction beside it.
        fix_mmap_threshold: also fix glibc's mmap threshold
            (:func:`taglm_tf.utils.memory.fix_mmap_threshold`), for a long-running tagging
            process whose peak RSS should stay flat. Before TensorFlow is imported, as
            ``MALLOC_MMAP_THRESHOLD_`` would be: fixed later, the heap fragmentation of the
            import and the model load stays.
    """
    if importlib.util.find_spec("tf_keras") is not None:
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if birnn_threads:
        # the CPUs this process may run on (a container's share), not the host's
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, cpus // 2)))
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")
    if fix_mmap_threshold:
        memory.fix_mmap_threshold()


def define_output_flag(
    name: str,
    default,
    help_text: str,
    inputs=(),
    folder: bool = False,
    new: bool = False,
    flag_values=flags.FLAGS,
) -> None:
    """A string flag naming a file (or, with ``folder``, a folder; with ``new``, one that must be
    absent or empty) the tool writes; :func:`run` checks it before any work, see
    :func:`declare_output_flag`. The flag belongs to the caller's module, so the tool's
    ``--help`` lists it among its own."""
    flags.DEFINE_string(name, default, help_text, flag_values=flag_values, module_name=calling_module())
    declare_output_flag(name, inputs, folder, new)


def declare_output_flag(name: str, inputs=(), folder: bool = False, new: bool = False) -> None:
    """Make the flag ``name`` (defined elsewhere, e.g. from a config field) an output that
    :func:`run` checks before any work (:func:`taglm_tf.utils.fileio.check_output_path`): it can be
    written, and it overwrites nothing given as input: the values of the flags named in
    ``inputs`` (lists and comma-separated values are split, a ``LABEL=PATH`` value is its path,
    and a path relative to the data directory counts too) and the positional arguments."""
    _OUTPUT_FLAGS[name] = (tuple(inputs), folder, new)


def _input_paths(values, data_dir: str) -> list[str]:
    """Every path a flag value or positional argument may name (see :func:`declare_output_flag`)."""
    paths = []
    for value in values:
        for item in value if isinstance(value, list) else str(value).split(","):
            if "=" in item and not os.path.exists(item):
                item = item.split("=", 1)[1]  # LABEL=PATH
            if item:
                paths += [item] + ([os.path.join(data_dir, item)] if not os.path.isabs(item) else [])
    return paths


def check_output_flags(flag_values=flags.FLAGS, argv=()) -> None:
    """Check every output flag defined with :func:`define_output_flag` or declared with
    :func:`declare_output_flag` that has a value; ``argv``: the positional arguments."""
    data_dir = (flag_values["data_dir"].value if "data_dir" in flag_values else None) or default_data_dir()
    for name, (inputs, folder, new) in _OUTPUT_FLAGS.items():
        if name in flag_values and flag_values[name].value:
            given = [flag_values[i].value for i in inputs if i in flag_values and flag_values[i].value]
            paths = _input_paths([*given, *argv], data_dir)
            check_output_path(flag_values[name].value, paths, f"--{name}", folder, new)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` for the few tools that take argparse's arguments: a command
    line it cannot take is one ``error: ...`` line and exit status 1, as with :func:`run`
    (argparse's own: its usage, then the message, and status 2)."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def run(main) -> None:
    """``absl.app.run`` that turns bad input into one clear line and exit status 1, and Ctrl-C
    into one line (where the run stopped, from :class:`~taglm_tf.utils.errors.Interrupted`) and 130.

    Bad input is an :class:`~taglm_tf.utils.errors.InputError`, a flag that does not parse (an
    unknown flag, a bad value, a missing required flag, an unreadable flagfile) and the
    ``app.UsageError`` or ``flags.Error`` that a ``main`` raises for arguments it does not take
    (``unexpected arguments: ...``): each is one ``error: ...`` line on stderr, exit status 1,
    instead of absl's help text or a traceback. Flagfiles are read as every text input
    (:func:`read_flagfiles_as_text_input`).

    absl's log verbosity is WARNING unless ``--verbosity`` is given (absl's default is INFO):
    TensorFlow's info lines, e.g. TF 2.21's checkpoint "Sharding callback duration", are not the
    project's messages. A command imports TensorFlow in its ``main``, after absl's log handler is
    in place, so TensorFlow's Python warnings come once each, in absl's format (TensorFlow adds a
    handler of its own only when there is none).

    Asking for help (``--help``, ``--helpfull``, ...) exits with 0, not absl's 1, so that
    ``cmd --help && ...`` works in scripts, and shows the main module's docstring (absl's usage
    text) without its Sphinx markup (:func:`plain_text`)."""
    main_module = sys.modules.get("__main__")
    if main_module is not None and main_module.__doc__:
        main_module.__doc__ = plain_text(main_module.__doc__)

    def guarded(argv):
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)
        try:
            check_output_flags(argv=argv[1:])
            return main(argv)
        except (InputError, app.UsageError, flags.Error) as e:
            fail(e)
        except KeyboardInterrupt as e:
            # End a progress line on the terminal (training bars go to stdout, tagging progress to
            # stderr), so that the message starts its own line.
            terminal = sys.stderr if sys.stderr.isatty() else sys.stdout if sys.stdout.isatty() else None
            if terminal is not None:
                print(file=terminal, flush=True)
            print(str(e) or "interrupted", file=sys.stderr, flush=True)
            sys.stdout.flush()
            # Not sys.exit: interpreter shutdown while tf.data's generator threads are still
            # running can crash (SIGSEGV). What a run keeps is already on disk, written atomically.
            os._exit(INTERRUPTED_EXIT)

    read_flagfiles_as_text_input()
    try:
        app.run(guarded, flags_parser=parse_flags)
    except SystemExit as e:
        # absl prints the help while parsing the flags, before main, then exits with 1.
        if e.code == 1 and any(arg.split("=")[0] in HELP_OPTIONS for arg in sys.argv[1:]):
            sys.exit(0)
        raise


def fail(error: Exception | str) -> NoReturn:
    """Print ``error`` as one ``error: ...`` line on stderr and exit with status 1."""
    print("error: " + " ".join(str(error).split("\n")), file=sys.stderr)
    sys.exit(1)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing for :func:`run` (``app.run``'s ``flags_parser``): the arguments left
    after the flags, or one ``error:`` line and exit status 1 where absl prints two and a hint."""
    try:
        return flags.FLAGS(argv)
    except (flags.Error, InputError) as e:
        fail(e)


def no_arguments(argv: list[str]) -> None:
    """For a ``main`` that takes flags only: refuse anything else on the command line (for
    :func:`run`, one ``error: unexpected arguments: ...`` line)."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")


def read_flagfiles_as_text_input() -> None:
    """Make absl read ``--flagfile`` files by the rules of every text input
    (:mod:`taglm_tf.utils.textio`): UTF-8, a leading byte-order mark dropped (absl's own reading keeps
    it, so the first flag becomes an unexpected argument ``\ufeff--flag=...``), lines ending at
    LF, CRLF or CR. absl's flagfile semantics stay its own (comments, nested ``--flagfile``); a
    file it cannot open is its usual error, invalid UTF-8 an :class:`InputError` naming the file
    and line. Idempotent; process-wide (absl has one flagfile reader)."""
    _flagvalues.open = _open_flagfile


def _open_flagfile(file, mode: str = "r", *args, **kwargs):
    """The ``open`` absl's flag module calls: its flagfile reads (``open(name)``) decoded by
    :mod:`taglm_tf.utils.textio`; any other use passed on to the built-in."""
    if mode != "r" or args or kwargs:
        return builtins.open(file, mode, *args, **kwargs)
    with builtins.open(file, "rb") as f:  # OSError, as absl expects of open()
        lines = [line for _, line in textio.iter_lines(f, os.fspath(file))]
    return io.StringIO("".join(line + "\n" for line in lines))


def plain_text(doc: str) -> str:
    """A reStructuredText docstring as a terminal shows it: inline literals lose their double
    backquotes, and a role such as :func: keeps only its target (a leading ~ dropped)."""
    doc = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc)
    return re.sub(r"``([^`]+)``", r"\1", doc)


def list_flags_in_help(*modules) -> None:
    """Make ``--help`` list the flags that ``modules`` define, as it lists the main module's own.

    absl's ``--help`` shows only the key flags of the main module (``--helpfull`` shows all);
    flags defined by a helper module (``experiments.tagging_flags``) are not among them.
    ``flags.adopt_module_key_flags`` would adopt them only when called from the main module
    itself; this registers them for the main module from wherever it is called.
    """
    for module in modules:
        for flag in flags.FLAGS.get_key_flags_for_module(module.__name__):
            flags.FLAGS.register_key_flag_for_module(absl_module_name("__main__"), flag)
