"""Python port of ``conlleval``, the CoNLL shared-task chunk scorer (version 2004-01-26).

The numbers and the printed report match the official Perl script byte for
byte, quirks included, so scores stay comparable with published ones:

* fields are split with Perl ``split`` semantics (the delimiter is a regular
  expression; leading empty fields are kept, trailing ones dropped). -d takes
  a Python regular expression; usual delimiters (space, tab, `` +``, ``\\s+``)
  split exactly as in Perl;
* only empty lines and lines whose first field is ``-X-`` end a sentence, so
  ``-DOCSTART-`` lines are scored as ordinary tokens;
* a tag is split at its first hyphen, and a type of ``"0"`` counts as no type;
* chunk starts and ends follow the script's rules for B, I, E, O, ``[``, ``]``
  and ``.``; there is no rule for ``S-``, so IOBES input is scored the way the
  script scores it, not the way IOBES intends;
* the per-type list can print the empty type twice (see ``_report_order``).

One departure: a UTF-8 byte-order mark at the start of the input is dropped, as every reader
of the project does, instead of becoming part of the first field.

Usage: ``python -m taglm_tf.conlleval [-l] [-r] [-d DELIM] [-o OTAG] [FILE]``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

BOUNDARY = "-X-"
ENCODING = "utf-8"
# Undecodable bytes round-trip unchanged, so any input behaves as in Perl,
# which works on raw bytes.
ERRORS = "surrogateescape"

USAGE = "usage: python -m taglm_tf.conlleval [-l] [-r] [-d DELIM] [-o OTAG] [FILE]"

# (previous prefix, current prefix) pairs that end or start a chunk.
_END_PAIRS = frozenset([("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")])
_START_PAIRS = frozenset([("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")])


# ---------------------------------------------------------------- results


@dataclass
class ChunkCounts:
    """Chunk counts for one type, or for all types together."""

    correct: int = 0
    found_gold: int = 0
    found_guessed: int = 0

    @property
    def precision(self) -> float:
        """Percentage of guessed chunks that are correct (0.0 if none guessed)."""
        return 100 * self.correct / self.found_guessed if self.found_guessed else 0.0

    @property
    def recall(self) -> float:
        """Percentage of gold chunks that were found (0.0 if no gold chunks)."""
        return 100 * self.correct / self.found_gold if self.found_gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, in percent."""
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@dataclass
class ConllevalResult:
    """Everything the report prints.

    ``per_type`` maps each chunk type to its counts, sorted as the script sorts
    (by bytes). ``report_types`` lists the types in the order the report prints
    them, which may repeat the empty type.
    """

    tokens: int
    correct_tags: int
    overall: ChunkCounts
    per_type: dict[str, ChunkCounts] = field(default_factory=dict)
    report_types: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Percentage of tokens whose guessed tag equals the gold tag."""
        return 100 * self.correct_tags / self.tokens if self.tokens else 0.0


# ---------------------------------------------------------------- parsing


def _chomp(line: str) -> str:
    """Drop one trailing newline, as Perl's chomp does (a ``\\r`` stays)."""
    return line[:-1] if line.endswith("\n") else line


def perl_split(pattern: re.Pattern[str], line: str) -> list[str]:
    """Split ``line`` like Perl's ``split(/pattern/, line)``.

    Unlike ``re.split``: an empty match where a field starts is not a
    separator, a positive-width match at the start gives a leading empty
    field, and trailing empty fields are dropped (so "" gives no fields).
    Captured groups are kept as fields, with "" for groups that did not take
    part. Perl would retry other alternatives at the same position before
    moving on; we move on, which only differs for delimiters such as ``x*|a``.
    """
    fields: list[str | None] = []
    start = 0
    while start < len(line):
        match = pattern.search(line, start)
        if match is not None and match.end() == start:
            match = pattern.search(line, start + 1)
        if match is None:
            break
        fields.append(line[start : match.start()])
        fields.extend(match.groups())
        start = match.end()
    if start < len(line):
        fields.append(line[start:])
    while fields and not fields[-1]:
        fields.pop()
    return ["" if f is None else f for f in fields]


def _perl_false(value: str | None) -> bool:
    """Whether Perl treats the string as false: undef, "" and "0"."""
    return value is None or value in ("", "0")


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag at its first hyphen into (prefix, type).

    A tag without a hyphen is all prefix. A type Perl sees as false ("0") is
    dropped, as the script does.
    """
    prefix, hyphen, type_ = tag.partition("-")
    if not hyphen:
        return tag, ""
    return prefix, "" if _perl_false(type_) else type_


def _raw_tag(tag: str, o_tag: str) -> str:
    """Turn a raw tag (no prefix) into a one-word chunk tag, as -r does."""
    if tag == o_tag:
        tag = "O"
    return tag if tag == "O" else "B-" + tag


def _compile_delimiter(delimiter: str) -> re.Pattern[str]:
    """Compile the delimiter regex, reporting a bad one as an InputError."""
    try:
        return re.compile(delimiter)
    except re.error as exc:
        raise InputError(f"bad delimiter regular expression {delimiter!r}: {exc}") from None


# ---------------------------------------------------------------- chunk rules


def end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk ended between the previous and the current word."""
    if (prev_tag, tag) in _END_PAIRS:
        return True
    if prev_tag not in ("O", ".") and prev_type != type_:
        return True
    return prev_tag in ("[", "]")


def start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk started between the previous and the current word."""
    if (prev_tag, tag) in _START_PAIRS:
        return True
    if tag not in ("O", ".") and prev_type != type_:
        return True
    return tag in ("[", "]")


# ---------------------------------------------------------------- scoring


class _Scorer:
    """Walks the rows of a file once, keeping the script's running counts."""

    def __init__(self) -> None:
        self.tokens = 0
        self.correct_tags = 0
        self.correct: dict[str, int] = {}  # correctly found chunks per type
        self.found_gold: dict[str, int] = {}
        self.found_guessed: dict[str, int] = {}
        self.in_correct = False
        self.last_gold = ("O", "")
        self.last_guess = ("O", "")

    def add(self, gold: tuple[str, str], guess: tuple[str, str], boundary: bool) -> None:
        """Score one row given its (prefix, type) gold and guessed tags."""
        if self.in_correct:
            self._maybe_close(gold, guess)
        starts_gold = start_of_chunk(self.last_gold[0], gold[0], self.last_gold[1], gold[1])
        starts_guess = start_of_chunk(self.last_guess[0], guess[0], self.last_guess[1], guess[1])
        if starts_gold and starts_guess and gold[1] == guess[1]:
            self.in_correct = True
        if starts_gold:
            _bump(self.found_gold, gold[1])
        if starts_guess:
            _bump(self.found_guessed, guess[1])
        if not boundary:
            if gold == guess:
                self.correct_tags += 1
            self.tokens += 1
        self.last_gold, self.last_guess = gold, guess

    def _maybe_close(self, gold: tuple[str, str], guess: tuple[str, str]) -> None:
        """Count the chunk being matched if both sides end it here, or drop it."""
        ends_gold = end_of_chunk(self.last_gold[0], gold[0], self.last_gold[1], gold[1])
        ends_guess = end_of_chunk(self.last_guess[0], guess[0], self.last_guess[1], guess[1])
        if ends_gold and ends_guess and self.last_guess[1] == self.last_gold[1]:
            self.in_correct = False
            _bump(self.correct, self.last_gold[1])
        elif ends_gold != ends_guess or guess[1] != gold[1]:
            self.in_correct = False

    def result(self) -> ConllevalResult:
        """Close a chunk still open at the end of input and build the result."""
        if self.in_correct:
            self.in_correct = False
            _bump(self.correct, self.last_gold[1])
        types = sorted(set(self.correct) | set(self.found_gold) | set(self.found_guessed), key=_sort_key)
        per_type = {
            t: ChunkCounts(self.correct.get(t, 0), self.found_gold.get(t, 0), self.found_guessed.get(t, 0))
            for t in types
        }
        overall = ChunkCounts(
            sum(self.correct.values()), sum(self.found_gold.values()), sum(self.found_guessed.values())
        )
        order = _report_order(list(self.found_gold) + list(self.found_guessed))
        return ConllevalResult(self.tokens, self.correct_tags, overall, per_type, order)


def _bump(counts: dict, key: str) -> None:
    """Add one to ``counts[key]``."""
    counts[key] = counts.get(key, 0) + 1


def _sort_key(text: str) -> bytes:
    """Perl sorts strings by their bytes; code points differ for escaped bytes."""
    return text.encode(ENCODING, ERRORS)


def _report_order(types: list[str]) -> list[str]:
    """Sort type names and drop repeats, keeping the script's bug on purpose.

    The script drops a name only if the previous name is Perl-true, so a type
    that is "" and occurs among both gold and guessed chunks is listed twice.
    """
    order: list[str] = []
    last: str | None = None
    for name in sorted(types, key=_sort_key):
        if _perl_false(last) or last != name:
            order.append(name)
        last = name
    return order


def _rows(lines: Iterable[str], pattern: re.Pattern[str], source: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields), checking every non-empty line has as many
    fields as the first non-empty line."""
    expected: tuple[int, int] | None = None  # (field count, line number)
    for number, line in enumerate(lines, start=1):
        fields = perl_split(pattern, _chomp(line))
        if fields and expected is None:
            expected = (len(fields), number)
        elif fields and len(fields) != expected[0]:
            raise InputError(
                f"unexpected number of features: {len(fields)} "
                f"(expected {expected[0]}, as on line {expected[1]})",
                path=source,
                line=number,
            )
        yield number, fields


def _parse_row(fields: list[str], o_tag: str, raw: bool) -> tuple[tuple[str, str], tuple[str, str], bool]:
    """Turn the fields of one row into (gold tag, guessed tag, is boundary)."""
    if not fields or fields[0] == BOUNDARY:
        fields = [BOUNDARY, "O", "O"]
    if raw:
        fields = fields[:-2] + [_raw_tag(t, o_tag) for t in fields[-2:]]
    gold, guess = split_tag(fields[-2]), split_tag(fields[-1])
    # With only two fields the script's "first item" is undef, never a boundary.
    boundary = len(fields) > 2 and fields[0] == BOUNDARY
    if boundary:
        guess = ("O", guess[1])
    return gold, guess, boundary


def evaluate_lines(
    lines: Iterable[str],
    delimiter: str = " ",
    o_tag: str = "O",
    raw: bool = False,
    source: str = "<input>",
) -> ConllevalResult:
    """Score lines of ``... gold guess`` fields, as the Perl script would.

    Each item of ``lines`` is one line, with or without its newline.
    ``delimiter`` is a regular expression (Perl's -d), ``o_tag`` the outside
    tag for raw tags (-o, used only with ``raw``), ``raw`` treats tags as
    unprefixed one-word chunks (-r). ``source`` names the input in errors.
    """
    pattern = _compile_delimiter(delimiter)
    scorer = _Scorer()
    for number, fields in _rows(lines, pattern, source):
        if len(fields) == 1 and fields[0] != BOUNDARY:
            raise InputError("need at least two fields (gold and guessed tag)", path=source, line=number)
        scorer.add(*_parse_row(fields, o_tag, raw))
    return scorer.result()


def split_lines(text: str) -> list[str]:
    """Split text into lines the way Perl reads them: at "\\n" only.

    A byte-order mark at the start is dropped (the one departure from the script, which would
    glue it to the first field; see :mod:`taglm_tf.utils.textio`).
    """
    lines = textio.strip_bom(text).split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def evaluate_file(path, **kw) -> ConllevalResult:
    """Score a file; keyword arguments are those of :func:`evaluate_lines`."""
    kw.setdefault("source", str(path))
    return evaluate_lines(read_lines(path), **kw)


def read_lines(path) -> list[str]:
    """Read a file's lines as Perl would, decoding bytes losslessly."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    return split_lines(data.decode(ENCODING, ERRORS))


def evaluate_tag_sequences(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> ConllevalResult:
    """Score predicted against gold tag sequences, one list per sentence.

    Same as scoring ``tok GOLD PRED`` lines with a blank line between
    sentences; tags must not contain spaces.
    """
    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted sentences")
    lines: list[str] = []
    for index, (gold_tags, pred_tags) in enumerate(zip(gold, pred)):
        if len(gold_tags) != len(pred_tags):
            raise InputError(
                f"sentence {index}: {len(gold_tags)} gold tags but {len(pred_tags)} predicted tags"
            )
        if index:
            lines.append("")
        lines.extend(_tag_line(g, p, index) for g, p in zip(gold_tags, pred_tags))
    return evaluate_lines(lines, source="<tag sequences>")


def _tag_line(gold: str, pred: str, sentence: int) -> str:
    """Build one ``tok GOLD PRED`` line, refusing tags that would break it."""
    for tag in (gold, pred):
        if not tag or re.search(r"\s", tag):
            raise InputError(f"sentence {sentence}: tag {tag!r} is empty or contains whitespace")
    return f"tok {gold} {pred}"


# ---------------------------------------------------------------- report


def _byte_len(text: str) -> int:
    """Length in bytes of the text as it is read and written."""
    return len(text.encode(ENCODING, ERRORS))


def _rjust(text: str, width: int) -> str:
    """Pad like Perl's %17s, which counts bytes, not characters."""
    return " " * max(0, width - _byte_len(text)) + text


def _ljust(text: str, width: int) -> str:
    """Pad like Perl's %-7s, which counts bytes, not characters."""
    return text + " " * max(0, width - _byte_len(text))


def _plain_report(result: ConllevalResult) -> str:
    """The default report: totals, then one line per type."""
    all_ = result.overall
    out = [
        f"processed {result.tokens} tokens with {all_.found_gold} phrases; "
        f"found: {all_.found_guessed} phrases; correct: {all_.correct}.\n"
    ]
    if result.tokens > 0:
        out.append(
            f"accuracy: {result.accuracy:6.2f}%; precision: {all_.precision:6.2f}%; "
            f"recall: {all_.recall:6.2f}%; FB1: {all_.f1:6.2f}\n"
        )
    for name in result.report_types:
        c = result.per_type[name]
        out.append(
            f"{_rjust(name, 17)}: precision: {c.precision:6.2f}%; "
            f"recall: {c.recall:6.2f}%; FB1: {c.f1:6.2f}  {c.found_guessed}\n"
        )
    return "".join(out)


def _latex_report(result: ConllevalResult) -> str:
    """The -l report: rows of a LaTeX table, no token counts."""
    out = ["        & Precision &  Recall  & F$_{\\beta=1} \\\\\\hline"]
    for name in result.report_types:
        c = result.per_type[name]
        out.append(f"\n{_ljust(name, 7)} &  {c.precision:6.2f}\\% & {c.recall:6.2f}\\% & {c.f1:6.2f} \\\\")
    all_ = result.overall
    out.append("\\hline\n")
    out.append(f"Overall &  {all_.precision:6.2f}\\% & {all_.recall:6.2f}\\% & {all_.f1:6.2f} \\\\\\hline\n")
    return "".join(out)


def format_report(result: ConllevalResult, latex: bool = False) -> str:
    """The text the Perl script prints on stdout (``latex`` is its -l)."""
    return _latex_report(result) if latex else _plain_report(result)


# ---------------------------------------------------------------- command line


class _UsageError(Exception):
    """Bad command-line arguments."""


def _parse_args(argv: Sequence[str]) -> dict:
    """Parse options by hand: unlike argparse, ``-d``/``-o`` take the next
    argument whatever it is (``-o -X-`` and ``-d -`` must work)."""
    opts = {"latex": False, "raw": False, "delimiter": " ", "o_tag": "O", "file": None, "help": False}
    files: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            files.extend(args)
            break
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif arg in ("-l", "-r"):
            opts["latex" if arg == "-l" else "raw"] = True
        elif arg in ("-d", "-o"):
            if not args:
                raise _UsageError(f"{arg} requires an argument")
            opts["delimiter" if arg == "-d" else "o_tag"] = args.pop(0)
        elif arg.startswith("-") and arg != "-":
            raise _UsageError(f"unknown argument {arg}")
        else:
            files.append(arg)
    if len(files) > 1:
        raise _UsageError("at most one FILE can be given")
    opts["file"] = files[0] if files and files[0] != "-" else None
    return opts


def _read_input(path: str | None) -> tuple[list[str], str]:
    """Read the lines of FILE, or of stdin when there is none."""
    if path is None:
        return split_lines(sys.stdin.buffer.read().decode(ENCODING, ERRORS)), "<stdin>"
    return read_lines(path), path


def main(argv: Sequence[str] | None = None) -> int:
    """The command, ``python -m taglm_tf.conlleval``; returns the exit status."""
    try:
        opts = _parse_args(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        print(f"conlleval: {exc} ({USAGE})", file=sys.stderr)
        return 1
    if opts["help"]:
        print(USAGE)
        return 0
    try:
        lines, source = _read_input(opts["file"])
        result = evaluate_lines(
            lines, delimiter=opts["delimiter"], o_tag=opts["o_tag"], raw=opts["raw"], source=source
        )
    except InputError as exc:
        print(f"conlleval: {exc}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stdout.buffer.write(format_report(result, latex=opts["latex"]).encode(ENCODING, ERRORS))
    sys.stdout.buffer.flush()
    return 0
