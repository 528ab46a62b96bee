"""Embed step and task texts: a hashing bag of words (default) or MiniLM from a local model.

``hashing`` (scikit-learn, no model, no network): ``HashingVectorizer`` (2¹⁴ features, word
unigrams and bigrams, lower-cased, tokens ``\\b\\w+\\b`` so that single digits and letters
count, English stop words removed, no sign flipping) followed by ``TfidfTransformer``
(sublinear tf, smoothed idf) fitted on the texts being analysed, rows L2-normalised. Two
identical texts get identical rows. The result is a sparse CSR matrix.

``minilm``: ``sentence-transformers/all-MiniLM-L6-v2`` (384 dimensions, normalised) through
sentence-transformers, loaded offline (``HF_HUB_OFFLINE=1``, ``local_files_only``): parity never
downloads at run time. Without the package or the model the error says how to install both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from parity._install import install_hint
from parity.errors import ParityInputError

__all__ = [
    "EMBEDDERS",
    "MINILM_MODEL",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "StepEmbeddings",
    "embed_steps",
    "make_embedder",
]

EMBEDDERS = ("hashing", "minilm")
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
HASHING_FEATURES = 2**14

SKLEARN_HINT = f"`parity agents` needs scikit-learn: {install_hint('agents')}"
MINILM_HINT = (
    f"install it with `{install_hint('embed')}`, then put the model in the Hugging Face "
    'cache once, on a machine with network access: `python -c "from sentence_transformers '
    f"import SentenceTransformer; SentenceTransformer('{MINILM_MODEL}')\"` (or copy the model "
    "folder and pass its path with --embedder-model); parity never downloads at run time"
)


def require_sklearn() -> None:
    """Raise :class:`ParityInputError` with the install hint unless scikit-learn imports."""
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ParityInputError(SKLEARN_HINT) from exc


class Embedder(Protocol):
    """Turns texts into row vectors: ``fit_transform`` on the analysed texts, then
    ``transform`` for more texts in the same space; ``describe`` gives its settings."""

    name: str

    def describe(self) -> dict[str, Any]: ...

    def fit_transform(self, texts: Sequence[str]) -> Any: ...

    def transform(self, texts: Sequence[str]) -> Any: ...


class HashingEmbedder:
    """Hashing bag of words + TF-IDF (see the module docstring); sparse L2-normalised rows.

    Examples
    --------
    >>> emb = HashingEmbedder()
    >>> x = emb.fit_transform(["search(paris weather)", "search(paris weather)", "open(a)"])
    >>> x.shape
    (3, 16384)
    >>> float(round((x[0] @ x[1].T).toarray()[0, 0], 12)), float((x[0] @ x[2].T).toarray()[0, 0])
    (1.0, 0.0)
    """

    name = "hashing"

    def __init__(self, n_features: int = HASHING_FEATURES) -> None:
        require_sklearn()
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        self.n_features = int(n_features)
        self._vectorizer = HashingVectorizer(
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            lowercase=True,
            token_pattern=r"(?u)\b\w+\b",
            stop_words="english",
            ngram_range=(1, 2),
            dtype=np.float64,
        )
        self._tfidf = TfidfTransformer(norm="l2", sublinear_tf=True, smooth_idf=True)

    def describe(self) -> dict[str, Any]:
        """The settings, for the report."""
        return {
            "name": self.name,
            "method": "HashingVectorizer (word 1-2 grams, English stop words removed) + TF-IDF "
            "(sublinear tf, smoothed idf), rows L2-normalised",
            "n_features": self.n_features,
        }

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Fit the idf on ``texts`` and return their rows."""
        counts = self._vectorizer.transform(list(texts))
        return self._tfidf.fit_transform(counts).tocsr()

    def transform(self, texts: Sequence[str]) -> Any:
        """Rows of ``texts`` with the fitted idf."""
        return self._tfidf.transform(self._vectorizer.transform(list(texts))).tocsr()


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Hugging Face libraries offline for the duration (previous settings restored)."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    before = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict.fromkeys(keys, "1"))
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class MiniLMEmbedder:
    """Sentence embeddings of a locally installed MiniLM model (dense, unit rows)."""

    name = "minilm"

    def __init__(self, model: str | None = None, batch_size: int = 64) -> None:
        self.model_name = model or MINILM_MODEL
        self.batch_size = int(batch_size)
        try:
            with _offline():
                from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ParityInputError(
                f"--embedder minilm needs the sentence-transformers package, which is not "
                f"installed: {MINILM_HINT}"
            ) from None
        try:
            with _offline():
                self._model = SentenceTransformer(
                    self.model_name, device="cpu", local_files_only=True
                )
        except Exception as exc:  # any loader failure means the model is not there
            reason = " ".join(str(exc).split())[:160]
            raise ParityInputError(
                f"--embedder minilm: model {self.model_name!r} is not installed locally "
                f"({type(exc).__name__}: {reason}); {MINILM_HINT}"
            ) from None

    def describe(self) -> dict[str, Any]:
        """The settings, for the report."""
        return {
            "name": self.name,
            "method": "sentence-transformers, loaded offline, normalised embeddings",
            "model": self.model_name,
        }

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of ``texts`` (nothing to fit)."""
        return self.transform(texts)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised sentence embeddings of ``texts``."""
        with _offline():
            rows = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(rows, dtype=np.float64).reshape(len(texts), -1)


def make_embedder(name: str = "hashing", model: str | None = None) -> Embedder:
    """The embedder called ``name`` (``"hashing"`` or ``"minilm"``).

    Examples
    --------
    >>> make_embedder("hashing").name
    'hashing'
    >>> make_embedder("bert")
    Traceback (most recent call last):
    ...
    parity.errors.ParityInputError: `embedder` must be one of hashing, minilm; got 'bert'
    """
    key = str(name).lower()
    if key == "hashing":
        if model is not None:
            raise ParityInputError("`embedder_model` is only used with the minilm embedder")
        return HashingEmbedder()
    if key == "minilm":
        return MiniLMEmbedder(model)
    raise ParityInputError(f"`embedder` must be one of {', '.join(EMBEDDERS)}; got {name!r}")


@dataclasses.dataclass(frozen=True)
class StepEmbeddings:
    """The embedded steps of several runs: one matrix, rows of run ``i`` in
    ``offsets[i]:offsets[i + 1]``."""

    matrix: Any
    offsets: np.ndarray
    embedder: dict[str, Any]

    @property
    def dim(self) -> int:
        """Number of features."""
        return int(self.matrix.shape[1])

    def select(self, start: int, stop: int) -> StepEmbeddings:
        """The embeddings of runs ``start … stop − 1`` only (same space)."""
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return StepEmbeddings(
            self.matrix[lo:hi], self.offsets[start : stop + 1] - lo, self.embedder
        )

    def trajectory(self, i: int) -> np.ndarray:
        """The (T_i × d) dense trajectory of run ``i``."""
        rows = self.matrix[int(self.offsets[i]) : int(self.offsets[i + 1])]
        return rows.toarray() if hasattr(rows, "toarray") else np.asarray(rows)


def embed_steps(runs_steps: Sequence[Sequence[str]], embedder: Embedder) -> StepEmbeddings:
    """Embed the step texts of every run in one space (the embedder is fitted on all of them).

    Examples
    --------
    >>> emb = embed_steps([["open(a)", "open(a)"], ["read(b)"]], HashingEmbedder())
    >>> emb.trajectory(0).shape, emb.trajectory(1).shape
    ((2, 16384), (1, 16384))
    """
    texts = [t for steps in runs_steps for t in steps]
    lengths = np.array([len(steps) for steps in runs_steps], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    if texts:
        matrix = embedder.fit_transform(texts)
    else:
        matrix = np.zeros((0, 1))
    return StepEmbeddings(matrix, offsets, embedder.describe())
