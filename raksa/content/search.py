"""Site search in Thai and English over words cut by PyThaiNLP (Thai has no spaces between words).

Documents are indexed by `actions.index_document`; any app may index its own things (services,
activities) there. A query is cut into words the same way, and a document matches when it holds
every word of the query.
"""

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from raksa.content.models import SearchDocument

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_QUERY_WORDS = 12
MAX_RESULTS = 50


@cache
def _tokenizer() -> "Callable[..., list[str]]":
    # Imported on first use: PyThaiNLP takes a while to load its dictionary, and most requests never search.
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, without spaces or punctuation, in order."""
    text = unicodedata.normalize("NFC", text).lower()
    tokens = _tokenizer()(text, engine="newmm", keep_whitespace=False)
    return [token for token in (t.strip() for t in tokens) if token and any(ch.isalnum() for ch in token)]


def index_text(*texts: str) -> str:
    """What SearchDocument.words stores: each distinct word once, delimited by spaces on both sides."""
    seen = dict.fromkeys(word for text in texts for word in words(text))
    return f" {' '.join(seen)} "


def find(query: str) -> list[SearchDocument]:
    """Documents holding every word of the query, newest first.

    Whole words first; when none holds them all, parts of words: the segmenter keeps compounds
    such as ภาษีที่ดิน (land tax) whole, and a person searching ภาษี (tax) expects to find them.
    """
    wanted = list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]
    if not wanted:
        return []
    whole = _holding(wanted, delimiter=" ")
    return whole or _holding(wanted, delimiter="")


def _holding(wanted: list[str], *, delimiter: str) -> list[SearchDocument]:
    documents: QuerySet[SearchDocument] = SearchDocument.objects.all()
    for word in wanted:
        documents = documents.filter(words__contains=f"{delimiter}{word}{delimiter}")
    return list(documents[:MAX_RESULTS])
