"""Every relative link of the project's tracked Markdown files (README, docs, reports) names a
tracked file, or a folder holding one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from urllib.parse import unquote

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# [text](target) and ![alt](target): the text may wrap; the target is <...> or runs up to a space
# (before a title) or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\((<[^>]*>|[^)\s]+)(?:\s[^)]*)?\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return listed.stdout.splitlines()


def _broken_links(path: str, tracked: set[str]) -> list[str]:
    """``path:line: target`` for each link of ``path`` (relative to REPO) that names neither a
    file of ``tracked`` nor a folder holding one; URLs and anchors of the file itself are
    skipped, and so are code blocks."""
    folders = {
        "/".join(name.split("/")[:depth]) for name in tracked for depth in range(1, name.count("/") + 1)
    }
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), f.read())
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1).strip("<>")
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), unquote(target.split("#")[0])))
        if resolved not in tracked and resolved not in folders:
            broken.append(f"{path}:{text.count(chr(10), 0, match.start()) + 1}: {target}")
    return broken


def test_every_relative_link_of_the_markdown_files_resolves():
    tracked = _tracked()
    files = [name for name in tracked if name.endswith(".md") and not name.startswith("tests/fixtures/")]
    assert "README.md" in files and "results/REPORT.md" in files
    assert [link for path in files for link in _broken_links(path, set(tracked))] == []


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REPO", str(tmp_path))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "[ok](../b.md) [url](https://x.org/y) [gone](b.md#part)\n"
        "[wrapped\ntext](gone.md) [folder](../results) [spaced](<../c d.md>) [quoted](../c%20d.md)\n"
        "```\n[code](not/a/link.md)\n```\n[untracked](../runs/x.md)\n"
    )
    (tmp_path / "b.md").write_text('![plot](plots/p.png "title") [anchor](#top)\n')
    tracked = {"b.md", "docs/a.md", "c d.md", "results/runs/x/config.json"}
    assert _broken_links("docs/a.md", tracked) == [
        "docs/a.md:1: b.md#part",
        "docs/a.md:2: gone.md",
        "docs/a.md:7: ../runs/x.md",
    ]
    assert _broken_links("b.md", tracked) == ["b.md:1: plots/p.png"]
