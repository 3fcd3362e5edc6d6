"""How every text input of the project is split into lines and fields.

One set of rules for CoNLL files (training, evaluation, tagging input), whitespace-tokenized
text, embedding files, LM corpora and vocabularies (lm_1b's too, kept as bytes:
:func:`raw_lines`), the lines of BRAT ``.ann`` files, flagfiles and ``dump_lstm_emb`` input:

* **Encoding.** UTF-8. A byte-order mark (``EF BB BF``) at the very start of the input is
  dropped, so it never becomes part of the first token. Invalid UTF-8 is an
  :class:`~taglm_tf.utils.errors.InputError` naming the file, the line and the byte in it (both
  from 1, as editors count), with a hint when the input is a compressed stream read as text.
* **Lines** end at LF, CRLF or CR (a CR-only file has as many lines as an LF one). Nothing
  else ends a line: U+0085, U+2028, U+2029, form feed and vertical tab belong to the line,
  unlike Python's ``str.splitlines()`` and text-mode newline handling.
* **Fields** are separated by runs of ASCII space and tab (:data:`SEPARATORS`). Every other
  character, including Unicode spaces such as U+00A0, U+2009 or U+3000, belongs to a field, as
  in the Perl conlleval and in lm_1b's Python 2 byte-string ``split()`` of UTF-8 text (which
  keeps every multi-byte character whole), unlike ``str.split()``. (That ``split()`` would also
  split at the ASCII controls VT and FF; here they belong to tokens too.)
* **Compression.** ``.gz``, ``.bz2`` and ``.xz`` files are decompressed by suffix.

The conlleval port (:mod:`taglm_tf.scoring.conlleval`) keeps the Perl script's own line and field rules
so that its scores stay byte-exact; it only shares :func:`strip_bom`.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from taglm_tf.utils.errors import InputError

SEPARATORS = " \t"
BOM = "\ufeff"
BOM_BYTES = b"\xef\xbb\xbf"

_FIELD = re.compile("[^ \t]+")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSED_SUFFIXES = tuple(_OPENERS)  # decompressed by suffix (open_binary)
# What a damaged compressed stream raises while being read.
_STREAM_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)
# How each compressed format starts (its magic number; bzip2's with the block size and the
# first block's signature), to explain what an unnamed one (stdin) is.
_MAGIC = {
    ".gz": re.compile(b"\x1f\x8b"),
    ".bz2": re.compile(b"BZh[1-9]1AY&SY"),
    ".xz": re.compile(b"\xfd7zXZ\x00"),
}
_HEAD = 10  # bytes of an input that tell


def split_fields(line: str) -> list[str]:
    """The fields of one line (no terminator): split at runs of space/tab, edges ignored.

    ``"a<U+00A0>b  c<TAB>"`` -> ``["a<U+00A0>b", "c"]``; a line of only spaces and tabs -> ``[]``.
    """
    return _FIELD.findall(line)


def field_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets in ``line`` of each field of :func:`split_fields`."""
    return [m.span() for m in _FIELD.finditer(line)]


def strip_field_separators(line):
    """``line`` (str or bytes) without leading and trailing spaces and tabs (one-word-per-line
    files)."""
    return line.strip(SEPARATORS.encode() if isinstance(line, bytes) else SEPARATORS)


def strip_bom(text):
    """``text`` (str or bytes) without a leading UTF-8 byte-order mark."""
    if isinstance(text, bytes):
        return text[len(BOM_BYTES) :] if text.startswith(BOM_BYTES) else text
    return text[1:] if text.startswith(BOM) else text


def open_binary(path: str) -> BinaryIO:
    """``path`` opened for binary reading, decompressing ``.gz``/``.bz2``/``.xz`` by suffix.

    Raises:
        InputError: the file is missing or cannot be opened (names the file).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError("no such file", path)
    opener = _OPENERS.get(os.path.splitext(path)[1], open)
    try:
        return opener(path, "rb")
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror or e})", path) from None


def raw_lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream as bytes, not decoded, by the rules of :func:`iter_lines`
    (a leading BOM dropped; LF, CRLF or CR line ends; no terminators), for an input whose bytes
    are kept as they are (lm_1b's vocabulary, whose words may hold bytes that are not UTF-8).

    Args:
        stream: binary file object, or any iterable of LF-terminated byte lines.
    """
    return _split_raw_lines(stream)


def _split_raw_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Raw lines without terminators from LF-split byte lines, also splitting at lone CRs;
    drops a leading BOM (so a file holding only a BOM has no lines)."""
    for index, raw in enumerate(chunks):
        if index == 0:
            raw = strip_bom(raw)
            if not raw:
                continue
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        elif raw.endswith(b"\r"):  # only at the end of the input
            raw = raw[:-1]
        if b"\r" in raw:
            yield from raw.split(b"\r")
        else:
            yield raw


def iter_lines(stream: Iterable[bytes], source: str) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line of a binary stream, numbers from 1.

    Lines end at LF, CRLF or CR and carry no terminator; a final terminator does not start an
    extra line. A leading BOM is dropped.

    Args:
        stream: binary file object (or any iterable of LF-terminated byte lines).
        source: the name used in errors.

    Raises:
        InputError: invalid UTF-8, or a damaged compressed stream, with ``source`` and the line.
    """
    number, head = 0, b""
    lines = _split_raw_lines(stream)
    try:
        for number, raw in enumerate(lines, start=1):
            head = raw[:_HEAD] if number == 1 else head
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(_not_utf8(e.start, head, source), source, number) from None
    except _STREAM_ERRORS as e:
        raise InputError(f"cannot read (corrupt or truncated file?): {e}", source, number + 1) from None


def _not_utf8(byte: int, head: bytes, source: str) -> str:
    """The error for invalid UTF-8 at ``byte`` (from 0) of its line, given the input's first
    bytes ``head``: a compressed stream read as text (stdin, or a file without its suffix) is
    named, since compression is known by suffix alone."""
    message = f"not valid UTF-8 (byte {byte + 1} of the line)"
    suffix = next((sfx for sfx, magic in _MAGIC.items() if magic.match(head)), None)
    if suffix and source.endswith(suffix):
        message += f": decompressed, it is {suffix}-compressed again"
    elif suffix:
        message += (
            f": it starts as a {suffix} file does; compressed input is read by its name, as FILE{suffix}"
        )
    return message


def decode_exact(data: bytes, source: str) -> str:
    """``data`` decoded as UTF-8 exactly as stored, a BOM and line ends kept, for a text that
    character offsets index (BRAT ``.txt`` files).

    Raises:
        InputError: invalid UTF-8, naming ``source`` and its line and byte as :func:`iter_lines`
            counts them.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        bom = len(BOM_BYTES) if data.startswith(BOM_BYTES) else 0  # not counted, as by the other readers
        line, byte, _ = _advance((1, 0, False), data[bom : e.start])
        raise InputError(_not_utf8(byte, data[:_HEAD], source), source, line) from None


def read_lines(path: str) -> Iterator[tuple[int, str]]:
    """:func:`iter_lines` of the file at ``path`` (compressed or not); the file is closed when
    the iterator is exhausted or closed. Raises :class:`InputError` as :func:`open_binary`
    and :func:`iter_lines` do."""
    path = os.fspath(path)
    with open_binary(path) as f:
        yield from iter_lines(f, path)


def decode_lines(data: bytes, source: str) -> list[str]:
    """All lines of an in-memory input (e.g. stdin), by the rules of :func:`iter_lines`."""
    return [line for _, line in iter_lines(io.BytesIO(data), source)]


def iter_text(stream: BinaryIO, source: str, size: int = 1 << 16) -> Iterator[str]:
    """A binary input decoded as text, piece by piece (each at most ``size`` bytes' worth), for
    raw text that is read as it arrives: UTF-8, a leading BOM dropped, line ends kept as they
    are so that character offsets index the input (``"".join`` of the pieces is the whole text).

    Args:
        stream: binary file object; ``read1`` is used where it exists, so a pipe's data is passed
            on as it arrives instead of waiting for ``size`` bytes (from the input's 10th byte:
            its start tells a compressed stream).
        source: the name used in errors.
        size: bytes per read.

    Raises:
        InputError: invalid UTF-8 (its line and byte counted as :func:`iter_lines` counts
            them), or a damaged compressed stream, naming ``source`` and the line.
    """
    read = getattr(stream, "read1", stream.read)
    pending, head = b"", None
    where = (1, 0, False)  # line, bytes into it and whether a CR ended the bytes decoded so far
    while True:
        try:
            data = read(size)
        except _STREAM_ERRORS as e:
            raise InputError(f"cannot read (corrupt or truncated file?): {e}", source, where[0]) from None
        final = not data
        pending += data
        if head is None:  # a BOM, or the start that names a compressed stream, may come in pieces
            if len(pending) < _HEAD and not final:
                continue
            pending = strip_bom(pending)
            head = pending[:_HEAD]
        try:
            text, used = codecs.utf_8_decode(pending, "strict", final)
        except UnicodeDecodeError as e:
            line, byte, _ = _advance(where, pending[: e.start])
            raise InputError(_not_utf8(byte, head, source), source, line) from None
        where = _advance(where, pending[:used])
        pending = pending[used:]
        if text:
            yield text
        if final:
            return


def _advance(where: tuple[int, int, bool], data: bytes) -> tuple[int, int, bool]:
    """``(line, byte in it, after a CR)`` once ``data`` follows ``where``, lines ending at LF,
    CRLF or CR as in :func:`iter_lines` (an LF right after a CR, even one read earlier, ends no
    second line)."""
    line, byte, after_cr = where
    if not data:
        return where
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") - (after_cr and data[:1] == b"\n")
    last = max(data.rfind(b"\n"), data.rfind(b"\r"))
    return line + ends, (len(data) - last - 1 if last >= 0 else byte + len(data)), data[-1:] == b"\r"
