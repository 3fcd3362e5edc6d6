"""Streaming tagging (``taglm_tf.tag.tag_stream``): the same output as tagging the whole input at
once through the API, in every input format; memory bounded by the chunk size; progress on
stderr only."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from taglm_tf import tag
from taglm_tf.data import conll
from taglm_tf.data.tokenize import paragraph_blocks
from taglm_tf.serving.api import Tagger
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[1]

TEXT = (
    "John Smith lives in New York .\n\n  EU rejects   German call to boycott British lamb .  \n"
    "Zürich 1996-08-22\nPeter\n"
) * 4
CONLL = (
    "-DOCSTART- -X- -X- O\n\nSOCCER NN I-NP O\n- : O O\nJAPAN NNP I-NP I-LOC\n\n"
    "Nadim NNP I-NP I-PER\nLadki NNP I-NP I-PER\n\n\n-DOCSTART- -X- -X- O\nAL-AIN NNP I-NP I-LOC\n"
    ", , O O\nUnited NNP I-NP I-LOC\n"
) * 3
RAW = (
    "John Smith lives in New York. He works\nfor the EU in Zürich.\r\n\r\n"
    "EU rejects German call to boycott British lamb!\n \t\n\nPeter Blackburn, BRUSSELS "
    '1996-08-22: Mr. Novak of the U.S. said "no".\n\n\n  Anna Novak met EU officials . '
) * 3


@pytest.fixture(scope="module")
def api_tagger(model_dir):
    return Tagger.load(model_dir)


def _streamed(api_tagger, items, input_format, output_format="conll", **kwargs):
    out = io.BytesIO()
    tag.tag_stream(api_tagger, items, input_format, output_format, out, **kwargs)
    return out.getvalue().decode("utf-8")


def _whole(api_tagger, inputs, output_format):
    """The reference: every input tagged at once by Tagger.predict, formatted by the CLI's writer."""
    return tag.output_text(api_tagger.predict(inputs), output_format, api_tagger.task.entity_word)


@pytest.mark.parametrize("output_format", ["conll", "json"])
def test_text_and_conll_files_stream_like_the_whole_input(api_tagger, tmp_path, output_format):
    (tmp_path / "in.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "in.conll").write_text(CONLL, encoding="utf-8")
    token_lists = [line.split() for line in TEXT.splitlines()]  # a record per line, blank ones too
    sentences = list(conll.read_unlabeled_conll(io.BytesIO(CONLL.encode("utf-8"))))
    for path, input_format, inputs in (
        (tmp_path / "in.txt", "text", token_lists),
        (tmp_path / "in.conll", "conll", sentences),
    ):
        streamed = _streamed(
            api_tagger,
            tag.read_input(str(path), input_format),
            input_format,
            output_format,
            batch_size=2,
            chunk_size=3,
        )
        assert streamed == _whole(api_tagger, inputs, output_format), input_format


def test_raw_text_streams_with_offsets_into_the_whole_input(api_tagger, model_dir, tmp_path):
    (tmp_path / "in.txt").write_bytes(("\ufeff" + RAW).encode("utf-8"))
    for output_format in ("conll", "json"):
        expected = _whole(api_tagger, RAW, output_format)  # offsets count from after the BOM
        with open(tmp_path / "in.txt", "rb") as f:  # small reads, blocks and chunks
            blocks = paragraph_blocks(textio.iter_text(f, "in.txt", size=7), block_chars=30)
            assert _streamed(api_tagger, blocks, "raw", output_format, batch_size=2, chunk_size=3) == expected
    # The CLI's reader and tag_input (one block here), JSON with character offsets.
    assert tag.tag_input(model_dir, str(tmp_path / "in.txt"), "raw", "json") == expected


class CountingLines:
    """``n`` one-sentence lines for the text reader, counting how many have been read."""

    def __init__(self, n: int):
        self.n, self.read = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.read += 1
            yield f"w{i % 13} Paris {i % 7}\n".encode()


class SentenceSink(io.RawIOBase):
    """Counts the JSON lines (sentences) written, and how many sentences the tagger held at each
    write: lines read from the input but not yet written."""

    def __init__(self, lines: CountingLines):
        self.lines, self.written, self.held, self.flushes = lines, 0, [], 0

    def writable(self):
        return True

    def write(self, data):
        self.held.append(self.lines.read - self.written)
        self.written += bytes(data).count(b"\n")
        return len(data)

    def flush(self):
        self.flushes += 1


def test_memory_is_bounded_by_the_chunk_size(api_tagger):
    lines = CountingLines(20_000)
    sink = SentenceSink(lines)
    done = tag.tag_stream(
        api_tagger, conll.read_tokenized_text(lines), "text", "json", sink, batch_size=64, chunk_size=512
    )
    assert done == (20_000, 60_000) and sink.written == lines.read == 20_000
    assert max(sink.held) <= 512  # never more than one chunk between reading and writing
    assert len(sink.held) == sink.flushes == 40  # written (and flushed) chunk by chunk


def test_an_input_error_midway_comes_after_the_earlier_chunks(api_tagger, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good line\n" * 10 + b"caf\xe9\n" + b"never read\n")
    out = io.BytesIO()
    with pytest.raises(InputError) as info:
        tag.tag_stream(
            api_tagger, tag.read_input(str(path), "text"), "text", "conll", out, batch_size=2, chunk_size=4
        )
    assert str(info.value) == f"{path}:11: not valid UTF-8 (byte 4 of the line)"
    assert out.getvalue().decode("utf-8").count("\n\n") == 8  # two chunks of four sentences


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_lines(capsys, monkeypatch):
    assert tag.show_progress(None, FakeTerminal()) and not tag.show_progress(None, io.StringIO())
    assert tag.show_progress(True, io.StringIO()) and not tag.show_progress(False, FakeTerminal())
    clock = iter([100.0, 102.0, 104.0])  # the clock starts at creation; two updates, 2 s apart
    monkeypatch.setattr(tag, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    stream = FakeTerminal()
    progress = tag.Progress(stream)
    progress.update(512, 1_536)
    progress.update(600, 1_800, done=True)
    shown = stream.getvalue()
    assert shown.startswith("\r") and shown.endswith("\n") and shown.count("\n") == 1  # one line, rewritten
    first, last = shown.split("\r")[1], shown.split("\r")[-1]
    assert re.fullmatch(
        r"\s*512/Unknown - \d+s \S+/sentence - tokens: 1536\.0000 - tokens/s: 768\.0000\x08*", first
    )
    assert re.fullmatch(
        r"\s*600/Unknown - \d+s \S+/sentence - tokens: 1800\.0000 - tokens/s: 450\.0000\s*", last
    )
    assert capsys.readouterr().out == ""  # nothing on stdout, which carries the tags


def test_cli_progress_goes_to_stderr_only(api_tagger, model_dir, tmp_path):
    (tmp_path / "in.txt").write_text(TEXT, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "taglm_tf.tag",
            f"--model_dir={model_dir}",
            f"--input={tmp_path / 'in.txt'}",
            "--input_format=text",
            "--progress",
            "--batch_size=2",
        ],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    expected = _streamed(api_tagger, tag.read_input(str(tmp_path / "in.txt"), "text"), "text")
    assert proc.stdout.decode("utf-8") == expected
    stderr = proc.stderr.decode("utf-8")
    tokens = sum(len(line.split()) for line in TEXT.splitlines())
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr  # the progress line, nothing else
    assert re.fullmatch(
        rf"\s*16/Unknown - .* - tokens: {tokens}\.0000 - tokens/s: [\d.]+\s*", stderr.split("\r")[-1]
    )
