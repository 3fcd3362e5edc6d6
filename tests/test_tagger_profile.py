"""benchmarks.tagger_profile on the tiny model: its batches are the module's, its phases add up,
its padding shares are counted by hand, and the profiler trace yields the ops that ran."""

import pytest

from benchmarks import tagger_profile
from taglm_tf.serving.module import TaggerModule

SENTENCES = [
    ["John", "lives", "in", "New", "York", "."],
    ["Peter"],
    ["EU", "rejects", "it"],
    ["BRUSSELS", "1996"],
]


@pytest.fixture(scope="module")
def module(tagger):
    return TaggerModule(tagger, "iob1")


def test_batches_are_the_modules_and_prefixes_end_in_its_tags(module, tagger):
    batches = tagger_profile.padded_batches(module, SENTENCES, 2)
    assert [b.numpy().tolist() for b in batches] == [
        [[b"Peter", b""], [b"BRUSSELS", b"1996"]],
        [[b"EU", b"rejects", b"it", b"", b"", b""], [b"John", b"lives", b"in", b"New", b"York", b"."]],
    ]
    fns = tagger_profile.prefixes(module, tagger.model)
    assert list(fns) == ["features", "char encoder", "RNN-1", "RNN-2", "potentials", "Viterbi", "tags"]
    tags = [t for b in batches for row, n in zip(fns["tags"](b).numpy(), (1, 2, 3, 6)) for t in [row]]
    assert [r[r != b""].tolist() for r in tags] == [
        [t.encode() for t in tagged] for tagged in module.tag([SENTENCES[i] for i in (1, 3, 2, 0)], 2)
    ]


def test_phases_add_up_to_the_total(module, tagger):
    batches = tagger_profile.padded_batches(module, SENTENCES, 2)
    fns = tagger_profile.prefixes(module, tagger.model)
    phases = tagger_profile.time_phases(fns, batches, module, SENTENCES, 2, passes=2)
    rows = phases["rows"]
    assert [r["phase"] for r in rows] == [*fns, "python"]
    assert sum(r["seconds"] for r in rows) == pytest.approx(phases["total_seconds"])
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)


def test_padding_shares_counted_by_hand(module):
    batches = tagger_profile.padded_batches(module, SENTENCES, 4)  # one batch, 4 x 6
    shares = tagger_profile.padding(module, batches)
    assert shares["word_rnn"] == pytest.approx(1 - 12 / 24)
    # 12 distinct words and the padding "" (a row of zeros), by length:
    # "" . EU in it New 1996 John York Peter lives rejects BRUSSELS
    lengths = [0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 5, 7, 8]  # 47 chars; one call pads to 8: 104 cells
    assert (module.featurizer(batches[0])["char_ids"].numpy() > 0).sum() == sum(lengths)
    assert shares["char_rnn_one_call"] == pytest.approx(1 - 47 / 104)
    # 8 groups of 13 rows end at 1, 3, 4, 6, 8, 9, 11, 13: [0] [1 2] [2] [2 3] [4 4] [4] [5 5] [7 8]
    assert shares["char_rnn_grouped"] == pytest.approx(1 - 47 / (0 + 4 + 2 + 6 + 8 + 4 + 10 + 16))


def test_op_times_list_the_recurrent_matmuls(module):
    batches = tagger_profile.padded_batches(module, SENTENCES, 4)
    ops = tagger_profile.op_times(module, batches, top=50)
    kinds = {row["name"] for row in ops["by_type"]}
    assert ops["op_seconds"] > 0 and kinds & {"MatMul", "_MklNativeFusedMatMul", "_MklMatMul"}
    assert all(":" in row["name"] and "::" not in row["name"] for row in ops["by_op"])
