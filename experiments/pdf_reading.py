"""Does an article printed to PDF by a browser read as the same sentences as its text?

An analyst often has coverage as a PDF: the page printed from a browser ("Save as PDF").
``stance predict``, ``report``, ``score-batch`` and ``labeling push`` read a .pdf (labeling/pdf_text.py),
and the segmenter joins its wrapped lines and drops the browser's running header and footer
(labeling/page_lines.py). This study takes every labeled article (seeds/, corpus/, coverage/),
renders its text as a plain web page (its first line the title and headline, each further line
a paragraph: the articles' own pages are not on hand), prints it with Debian's Chromium
(``--print-to-pdf``, Chromium's own running header and footer, on US Letter, in the page's type
and in a large type, which puts a page break inside many sentences), reads the PDF back, and compares its
sentences with the text's as the model reads them and a terminal shows them
(``labeling.page_lines.one_line_read``: the running lines a page break left inside a sentence
left out, whitespace collapsed, a word cut after its hyphen at a line end whole; a sentence's text
is a span of the article, and the PDF's spans hold its line breaks and those running lines).

    .venv/bin/python experiments/pdf_reading.py [--limit N]

Writes experiments/pdf-reading/result.md and result.json, or under ``--out``.
"""

from __future__ import annotations

import argparse
import html
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labeling.articles import read_article  # noqa: E402
from labeling.page_lines import one_line_read  # noqa: E402
from labeling.segment import segment  # noqa: E402

PAPERS = {"letter": "", "large": "html { font-size: 36px; }"}  # large type: a page break in many sentences


def page(text: str, paper: str) -> str:
    """The article's text as a web page: its first line the title and headline, each other a paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = html.escape(lines[0])
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    style = f"<style>{PAPERS[paper]}</style>" if PAPERS[paper] else ""
    return f"<!doctype html><html><head><title>{title}</title>{style}</head><body><h1>{title}</h1>\n{body}</body></html>"


def printed(chromium: str, html_file: Path, pdf: Path) -> None:
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--print-to-pdf={pdf}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def words(path: Path) -> list[str]:
    """The article's sentences as the model reads them and a terminal shows them."""
    return [one_line_read(s.text) for s in segment(read_article(path))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="the first N articles only (0: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "experiments" / "pdf-reading")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or sys.exit("no chromium on PATH: `make chromium` installs it")
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
    files = sorted(
        p for d in ("seeds", "corpus/articles", "coverage/articles") for p in (ROOT / d).glob("*.txt")
    )
    files = files[: args.limit] if args.limit else files
    rows, started = [], time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(files):
            expected = words(path)
            for paper in PAPERS:
                html_file, pdf = Path(tmp) / f"{path.stem}.html", Path(tmp) / f"{path.stem}.pdf"
                html_file.write_text(page(path.read_text(encoding="utf-8-sig"), paper), encoding="utf-8")
                printed(chromium, html_file, pdf)
                got = words(pdf)
                from pypdf import PdfReader

                rows.append({
                    "article": path.stem, "paper": paper, "pages": len(PdfReader(pdf).pages),
                    "sentences": len(expected), "same": got == expected,
                    "found": sum((Counter(expected) & Counter(got)).values()),  # the text's sentences read alike
                    "differ": [[a, b] for a, b in zip(got, expected, strict=False) if a != b][:3],
                    "pdf_sentences": len(got),
                })  # fmt: skip
            if (i + 1) % 20 == 0:
                print(
                    f"{i + 1} of {len(files)} articles ({time.monotonic() - started:.0f} s)", file=sys.stderr
                )
    summary = {
        "articles": len(files),
        "chromium": version,
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "papers": {},
    }
    for paper in PAPERS:
        mine = [r for r in rows if r["paper"] == paper]
        summary["papers"][paper] = {
            "pages": sum(r["pages"] for r in mine),
            "articles_same": sum(r["same"] for r in mine),
            "sentences": sum(r["sentences"] for r in mine),
            "sentences_found": sum(r["found"] for r in mine),
            "differ": [r for r in mine if not r["same"]],
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "result.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    lines = [
        "# Articles printed to PDF by a browser, read back (experiments/pdf_reading.py)",
        "",
        f"{len(files)} labeled articles, each rendered as a page and printed by {version}; read with "
        "`labeling.articles.read_article` and segmented; compared with the text's sentences as the model "
        "reads them and a terminal shows them (`labeling.page_lines.one_line_read`). Each article that "
        "differs is listed below with its first three differing sentences.",
        "",
        "| paper | pages | articles read to the same sentences | of the text's sentences, read alike from the PDF |",
        "|---|---|---|---|",
    ]
    for paper, s in summary["papers"].items():
        lines.append(
            f"| {paper} | {s['pages']} | {s['articles_same']} of {len(files)} | {s['sentences_found']} of {s['sentences']} |"
        )
    for paper, s in summary["papers"].items():
        for r in s["differ"]:
            lines.append("")
            lines.append(f"**{r['article']}** on {paper} ({r['pages']} pages): {r['pdf_sentences']} sentences "
                         f"from the PDF, {r['sentences']} from the text")  # fmt: skip
            lines += [f"- PDF: {a}\n- text: {b}" for a, b in r["differ"]]
    (args.out / "result.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: 10 + len(PAPERS)]))


if __name__ == "__main__":
    main()
