"""A sentence's context: the sentences before it in its article, as the model reads them.

"He said ..." holds a stance whose holder is named earlier in the article. The model's
optional ``context`` input carries, for each sentence, up to ``holder.CONTEXT_SENTENCES``
preceding sentences of the same article, one per line, nearest last. The dataset
builder, predict and Label Studio pre-annotation all build it here, from the one
segmenter's sentences in article order, so a sentence trained on and a sentence scored
see the same context.
"""

from __future__ import annotations

from collections.abc import Sequence

from labeling.page_lines import as_read

CONTEXT_SENTENCES = 5  # preceding sentences carried: reports chain "He said" over several


def contexts(articles: Sequence[str], texts: Sequence[str]) -> list[str]:
    """For sentences given in article order, each one's preceding sentences of the same article.

    A sentence whose article changes from the row before starts with an empty context;
    sentences of one article need not be contiguous (the rows of each article are
    collected in the order given).
    """
    seen: dict[str, list[str]] = {}
    out = []
    for article, text in zip(articles, texts, strict=True):
        before = seen.setdefault(article, [])
        out.append(join(before))
        before.append(text)
    return out


def join(preceding: Sequence[str]) -> str:
    """The context string of the sentences before one (one per line, at most the last few), each
    read as :func:`training.outputs.score` reads a sentence (no running lines of a page break)."""
    return "\n".join(" ".join(as_read(s).split()) for s in preceding[-CONTEXT_SENTENCES:])
