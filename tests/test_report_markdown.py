"""The Markdown summary: what a reviewer reads first, with scraped text that stays inert."""

from __future__ import annotations

from conftest import IMG, SCRIPT, hostile_records, records_of, replace_edit, run, with_edits
from markdown_it import MarkdownIt

from dedup.model import Problem
from dedup.records import Records
from dedup.render.markdown import md, render_markdown
from dedup.render.summary import UNCHANGED, summarize

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."
BOILER = "Sign up for our newsletter to get the latest headlines delivered to your inbox every day."


def _records() -> Records:
    texts = {
        "site/a.txt": f"{P1}\n{BOILER}\n",
        "site/b.txt": f"{P2}\n{P2}\n{BOILER}\n",
        "site/c.txt": f"{BOILER}\n",
        "site/d.txt": f"{P3}\n",
    }
    result = run(texts)
    fixed = "A line with a\u00a0no-break space.\n"
    fix = with_edits("site/e.txt", fixed, [replace_edit(fixed, "\u00a0", " ", "whitespace")])
    return records_of([*result.documents, fix], [Problem("site/bad.txt", "not valid UTF-8", 4)])


def test_summary_counts_by_rule_share_and_clusters() -> None:
    s = summarize(_records())
    assert (s.documents, s.changed, s.removals, s.fixes) == (5, 3, 3, 1)
    assert [(r.op, r.rule, r.edits, r.documents) for r in s.by_rule] == [
        ("remove", "exact", 3, 2), ("replace", "whitespace", 1, 1)]
    assert dict(s.distribution)[UNCHANGED] == 2
    assert s.most_lost[0].id == "site/c.txt" and s.most_lost[0].chars_removed == len(BOILER)  # all but "\n"
    (boiler, *_) = s.largest_clusters
    assert (boiler.paragraphs, boiler.documents, boiler.removed, boiler.kept_doc) == (3, 3, 2, "site/a.txt")
    assert boiler.text == BOILER and s.cross_documents == 1


def test_markdown_has_every_section() -> None:
    text = render_markdown(summarize(_records()))
    for heading in ("# dedup report", "## Changes by rule", "## Share of each document removed",
                    "## Documents that lost the most", "## Largest clusters", "## Clusters across documents",
                    "## Inputs not processed"):
        assert f"\n{heading}\n" in f"\n{text}"
    assert "| documents | 5 (3 changed) |" in text
    assert "| replace | whitespace | 1 | 1 | 0 |" in text
    assert "site/bad.txt line 4: not valid UTF-8" in text


def test_nothing_changed_says_so() -> None:
    text = render_markdown(summarize(records_of(run({"a.txt": f"{P1}\n"}).documents)))
    assert "Nothing was changed." in text and "## Largest clusters" not in text


def test_scraped_text_never_becomes_markup() -> None:
    text = render_markdown(summarize(hostile_records()))
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;" in html  # shown as text
    assert "⟨RLO⟩" in text and "\u202e" not in text and "\x1b" not in text
    assert "not markup" in html
    assert SCRIPT not in text and IMG not in text


def test_md_escapes_what_could_be_syntax() -> None:
    assert md("*a* _b_ `c` [d](e) <f> & | ~g~ $h$ http://x") == \
        "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) &lt;f&gt; &amp; \\| \\~g\\~ \\$h\\$ http\\://x"
    assert md("line one\nline two\u00a0end", 200) == "line one⏎ line two⟨NBSP⟩end"
