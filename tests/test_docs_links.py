"""Every link in the documentation resolves inside the repository: a relative link names a file
of the checkout (and, for `file.md#anchor`, one of its headings); absolute paths and links that
climb out of the checkout fail. Web links (http, https, mailto) are not followed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "runs", "outputs", "build", "dist", "node_modules", ".pytest_cache"}
WEB = ("http://", "https://", "mailto:")

FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def doc_files() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if path.suffix in (".md", ".ipynb") and not SKIPPED_DIRS.intersection(parts) and "site-packages" not in parts:
            found.append(path)
    return found


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def without_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCED_CODE.sub("", text))


def links(text: str) -> list[str]:
    return LINK.findall(without_code(text))


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a linked heading keeps its text
    return re.sub(r"[^\w\- ]", "", text.replace("`", "").lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCED_CODE.sub("", markdown_of(path))):  # inline code in a heading is part of its anchor
        slug = github_anchor(heading)
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found


def problem(source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, does not resolve inside the repository (None if it does)."""
    if target.startswith(WEB):
        return None
    file_part, _, anchor = target.partition("#")
    if file_part.startswith("/") or re.match(r"^[a-zA-Z]:", file_part):
        return "an absolute path"
    resolved = (source.parent / file_part).resolve() if file_part else source
    if not resolved.is_relative_to(ROOT):
        return "outside the repository"
    if not resolved.exists():
        return "no such file"
    if anchor and resolved.suffix in (".md", ".ipynb") and anchor not in anchors(resolved):
        return f"no heading #{anchor} in {resolved.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(doc):
    broken = [f"{target}: {why}" for target in links(markdown_of(doc)) if (why := problem(doc, target))]
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_checker_finds_broken_links(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "ROOT", tmp_path)  # a repository of two files
    (tmp_path / "a.md").write_text("# Title here\n\n## 2. Second `part`\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    assert problem(doc, "a.md") is None
    assert problem(doc, "a.md#2-second-part") is None
    assert problem(doc, "a.md#title-here") is None
    assert problem(doc, "https://example.org/x") is None
    assert problem(doc, "/work/shared/DOMAIN.md") == "an absolute path"
    assert problem(doc, "../../shared/DOMAIN.md") == "outside the repository"
    assert problem(doc, "b.md") == "no such file"
    assert problem(doc, "a.md#nope").startswith("no heading")


def test_links_in_code_are_not_links():
    assert links("see [a](x.md) and `[b](y.md)`\n```\n[c](z.md)\n```\n![img](i.png)") == ["x.md", "i.png"]


def test_no_reference_to_the_evidence_outside_the_repository():
    """The evidence the docs cite is docs/evidence.md, not a file of the machine that wrote them."""
    cited = [p for p in doc_files() + sorted(ROOT.glob("scenarios/*.yaml")) if "DOMAIN" in p.read_text(encoding="utf-8")]
    assert not cited


CONFLICT_MARKER = re.compile(r"^(<{7}|>{7})( |$)", re.M)
TEXT_SUFFIXES = {".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".txt", ".ipynb", ".html"}


def test_no_file_holds_an_unresolved_merge_conflict():
    """A merge once left `<<<<<<< HEAD` ... `>>>>>>> branch` in the README: both sides shown, nothing failing."""
    found = []
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if path.suffix in TEXT_SUFFIXES and path.is_file() and not SKIPPED_DIRS.intersection(parts) and "site-packages" not in parts:
            if CONFLICT_MARKER.search(path.read_text(errors="replace")):
                found.append(str(path.relative_to(ROOT)))
    assert not found, f"unresolved merge conflicts in {found}"
