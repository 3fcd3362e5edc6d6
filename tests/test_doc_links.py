"""Every relative link of the project's Markdown files (README, docs, reports) names a file or
folder of the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# [text](target) and ![alt](target), the target up to a space (a title) or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s[^)]*)?\)")


def _markdown_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return [name for name in listed.splitlines() if not name.startswith("tests/fixtures/")]


def _broken_links(path: str) -> list[str]:
    broken = []
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        text = f.read()
    for line_number, line in enumerate(text.splitlines(), 1):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL, or an anchor of this file
            resolved = os.path.join(os.path.dirname(os.path.join(REPO, path)), target.split("#")[0])
            if not os.path.exists(resolved):
                broken.append(f"{path}:{line_number}: {target}")
    return broken


def test_every_relative_link_of_the_markdown_files_resolves():
    files = _markdown_files()
    assert "README.md" in files and "results/REPORT.md" in files
    assert [link for path in files for link in _broken_links(path)] == []


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REPO", str(tmp_path))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("[ok](../b.md) [url](https://x.org/y) [gone](b.md#part)\n")
    (tmp_path / "b.md").write_text('![plot](plots/p.png "title") [anchor](#top)\n')
    assert _broken_links("docs/a.md") == ["docs/a.md:1: b.md#part"]
    assert _broken_links("b.md") == ["b.md:1: plots/p.png"]
