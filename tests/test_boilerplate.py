"""Boilerplate lines (opt-in): short lines found in many documents of the input."""

from conftest import run

from dedup.model import BOILERPLATE

NEWSLETTER = "Sign up for our weekly newsletter to get the best stories in your inbox."
COOKIES = "Nous utilisons des cookies pour améliorer votre expérience."


def corpus() -> dict[str, str]:
    bodies = [
        "Start with herbs: basil, mint and chives grow well in pots on a sunny balcony.",
        "Feed the starter the evening before, then mix flour, water and salt in the morning.",
        "Rinse the salt off the frame after every ride and oil the chain once a week.",
        "Les cyclistes sont invités à rouler prudemment sur les quais pendant les travaux.",
    ]
    docs = {f"{i}.txt": f"{body}\n{NEWSLETTER}\n" for i, body in enumerate(bodies[:3])}
    docs["3.txt"] = f"{bodies[3]}\n{COOKIES}\n"
    return docs


def test_off_by_default_keeps_the_first_copy() -> None:
    out = run(corpus())
    assert [d.cleaned.count(NEWSLETTER) for d in out.documents] == [1, 0, 0, 0]
    assert all(d.boilerplate == () for d in out.documents)


def test_report_lists_them_with_their_document_count() -> None:
    out = run(corpus(), boilerplate="report")
    assert [d.cleaned.count(NEWSLETTER) for d in out.documents] == [1, 0, 0, 0]
    listed = [(b.paragraph.doc, b.paragraph.index, b.documents) for d in out.documents for b in d.boilerplate]
    assert listed == [("0.txt", 1, 3), ("1.txt", 1, 3), ("2.txt", 1, 3)]


def test_remove_takes_every_copy_and_says_how_many_documents() -> None:
    out = run(corpus(), boilerplate="remove")
    assert [d.cleaned.count(NEWSLETTER) for d in out.documents] == [0, 0, 0, 0]
    first = out.documents[0].edits[0]
    assert (first.rule, first.reason, first.kept, first.score) == (BOILERPLATE, "in 3 documents", (), None)
    assert COOKIES in out.documents[3].cleaned  # in one document only: not boilerplate


def test_min_docs_and_max_chars() -> None:
    assert all(d.boilerplate == () for d in run(corpus(), boilerplate="report", boilerplate_min_docs=4).documents)
    assert all(d.boilerplate == () for d in run(corpus(), boilerplate="report", boilerplate_max_chars=40).documents)
