"""The one Markdown table writer."""

import pytest

from taglm_tf.utils.markdown import table


def test_table_escapes_pipes_and_line_breaks():
    assert table(["a", "b"], [["x|y", "1\n2"], [3, None]]) == [
        "| a | b |",
        "| --- | --- |",
        "| x\\|y | 1 2 |",
        "| 3 | None |",
    ]


def test_a_row_of_another_width_is_refused():
    with pytest.raises(ValueError, match="a table row has 1 cells, the header 2"):
        table(["a", "b"], [["only one"]])
