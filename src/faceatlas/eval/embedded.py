"""A corpus together with its embeddings (from the on-disk cache in :mod:`embed`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from faceatlas.engine import EngineSpec
from faceatlas.eval.corpus import Corpus, Half, split_identities
from faceatlas.eval.embed import STATUS_FAILED, StatusCounts, embed_photos
from faceatlas.search.fairness import FairScorer
from faceatlas.types import Vectors, record

__all__ = [
    "EmbeddedCorpus",
    "count_between_above",
    "count_cross_identity_above",
    "cross_identity_scores",
    "embed_corpus",
    "identity_codes",
    "pooled",
    "same_identity_scores",
    "score_block",
]

Offsets = npt.NDArray[np.float32] | None


def score_block(
    a: Vectors, b: Vectors, a_offsets: Offsets = None, b_offsets: Offsets = None
) -> npt.NDArray[np.float32]:
    """Scores ``(len(a), len(b))``: cosine, or the fair score when offsets are given."""
    s = np.asarray(a, np.float32) @ np.asarray(b, np.float32).T
    if a_offsets is None or b_offsets is None:
        return np.asarray(s, np.float32)
    return FairScorer.combine(s, a_offsets, b_offsets)


BLOCK = 1024


@record
class EmbeddedCorpus(StatusCounts):
    """``vectors[i]`` (unit ``float32``) embeds ``corpus.paths[i]``; ``status`` as in :mod:`embed`."""

    corpus: Corpus
    vectors: Vectors
    status: npt.NDArray[np.int8]
    offsets: npt.NDArray[np.float32] | None = None
    """Fair-scoring offset of each photo (:class:`faceatlas.search.fairness.FairScorer`);
    ``None``: raw cosine similarity."""

    def subset(self, keep: list[int] | npt.NDArray[np.int_]) -> EmbeddedCorpus:
        idx = np.asarray(keep, dtype=np.int64)
        return EmbeddedCorpus(
            self.corpus.subset(idx),
            self.vectors[idx],
            self.status[idx],
            None if self.offsets is None else self.offsets[idx],
        )

    def scored_by(self, scorer: FairScorer | None) -> EmbeddedCorpus:
        """The same photos, compared with ``scorer``'s fair score (``None``: raw cosine)."""
        offsets = None if scorer is None else scorer.face_offsets(self.vectors)
        return EmbeddedCorpus(self.corpus, self.vectors, self.status, offsets)

    def half(self, which: Half) -> EmbeddedCorpus:
        """The photos of people on one side of the documented split
        (:func:`faceatlas.eval.corpus.split_identities`)."""
        sides = split_identities(self.corpus.name, self.corpus.identities)
        return self.subset([i for i, side in enumerate(sides) if side is which])

    def usable(self) -> EmbeddedCorpus:
        """Without unreadable photos (their vector is zero and means nothing)."""
        return self.subset(np.nonzero(self.status != STATUS_FAILED)[0])

    def capped(self, per_identity: int) -> EmbeddedCorpus:
        """At most ``per_identity`` photos of each person (the first ones), so a
        heavily photographed person does not dominate the pair counts."""
        keep = sorted(i for idx in self.corpus.by_identity().values() for i in idx[:per_identity])
        return self.subset(keep)

    def summary(self) -> dict[str, int | str]:
        return {
            "corpus": self.corpus.name,
            "photos": len(self.corpus),
            "people": len(self.corpus.by_identity()),
            "centred_box_fallback": self.fallback_count,
            "unreadable": self.failed_count,
        }


def embed_corpus(
    corpus: Corpus,
    spec: EngineSpec,
    *,
    workers: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EmbeddedCorpus:
    found = embed_photos(
        corpus.paths, spec, workers=workers, cache_dir=cache_dir, progress=progress
    )
    return EmbeddedCorpus(corpus, found.vectors, found.status)


def pooled(parts: list[EmbeddedCorpus]) -> EmbeddedCorpus:
    """Several embedded corpora as one; each identity is prefixed with its corpus's name, so
    people of different data sets never share one. Offsets are kept where every part has them."""
    offsets = [p.offsets for p in parts if p.offsets is not None]
    return EmbeddedCorpus(
        Corpus(
            " + ".join(p.corpus.name for p in parts),
            tuple(x for p in parts for x in p.corpus.paths),
            tuple(f"{p.corpus.name}|{i}" for p in parts for i in p.corpus.identities),
        ),
        np.concatenate([p.vectors for p in parts]),
        np.concatenate([p.status for p in parts]),
        np.concatenate(offsets) if len(offsets) == len(parts) else None,
    )


def identity_codes(identities: tuple[str, ...] | list[str]) -> npt.NDArray[np.int64]:
    """One integer per distinct identity, for fast same/different masks."""
    codes: dict[str, int] = {}
    return np.asarray([codes.setdefault(i, len(codes)) for i in identities], dtype=np.int64)


def _cross_identity_blocks(
    vectors: Vectors, codes: npt.NDArray[np.int64], offsets: Offsets
) -> Iterator[npt.NDArray[np.float32]]:
    """The scores of every unordered pair of photos of different people, a block of
    ``BLOCK`` rows at a time (so memory stays bounded for large corpora)."""
    x = np.asarray(vectors, dtype=np.float32)
    for start in range(0, len(x), BLOCK):
        stop = min(start + BLOCK, len(x))
        s = score_block(
            x[start:stop],
            x[start:],
            None if offsets is None else offsets[start:stop],
            None if offsets is None else offsets[start:],
        )
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, len(x))[None, :]
        keep = (cols > rows) & (codes[start:stop, None] != codes[None, start:])
        yield s[keep]


def _add_counts_above(counts: list[int], values: np.ndarray, thresholds: list[float]) -> None:
    """Add to ``counts[k]`` how many ``values`` are ``>= thresholds[k]``."""
    for k, t in enumerate(thresholds):
        counts[k] += int((values >= t).sum())


def cross_identity_scores(
    vectors: Vectors, codes: npt.NDArray[np.int64], offsets: Offsets = None
) -> npt.NDArray[np.float32]:
    """Similarity of every unordered pair of photos of *different* people, ``float32 (pairs,)``."""
    out = [vals.astype(np.float32) for vals in _cross_identity_blocks(vectors, codes, offsets)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def same_identity_scores(
    vectors: Vectors, codes: npt.NDArray[np.int64], offsets: Offsets = None
) -> npt.NDArray[np.float32]:
    """Similarity of every unordered pair of photos of the *same* person (mated pairs)."""
    x = np.asarray(vectors, dtype=np.float32)
    out: list[npt.NDArray[np.float32]] = []
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    bounds = np.r_[0, np.nonzero(np.diff(sorted_codes))[0] + 1, len(order)]
    for a, b in itertools.pairwise(bounds):
        if b - a < 2:
            continue
        rows = order[a:b]
        off = None if offsets is None else offsets[rows]
        s = score_block(x[rows], x[rows], off, off)
        out.append(s[np.triu_indices(b - a, k=1)].astype(np.float32))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def count_cross_identity_above(
    vectors: Vectors,
    codes: npt.NDArray[np.int64],
    thresholds: list[float],
    offsets: Offsets = None,
) -> tuple[list[int], int]:
    """For each threshold, how many different-person pairs score ``>=`` it; and the pair count."""
    counts = [0] * len(thresholds)
    total = 0
    for vals in _cross_identity_blocks(vectors, codes, offsets):
        total += len(vals)
        _add_counts_above(counts, vals, thresholds)
    return counts, total


def count_between_above(
    a: Vectors,
    a_codes: npt.NDArray[np.int64],
    b: Vectors,
    b_codes: npt.NDArray[np.int64],
    thresholds: list[float],
    a_offsets: Offsets = None,
    b_offsets: Offsets = None,
) -> tuple[list[int], int]:
    """For each threshold, how many different-person pairs (one photo of ``a``, one of ``b``)
    score ``>=`` it; and the pair count. Codes must come from one :func:`identity_codes` call."""
    counts = [0] * len(thresholds)
    total = 0
    bf = np.asarray(b, np.float32)
    for start in range(0, len(a), BLOCK):
        s = score_block(
            a[start : start + BLOCK],
            bf,
            None if a_offsets is None else a_offsets[start : start + BLOCK],
            b_offsets,
        )
        vals = s[a_codes[start : start + BLOCK, None] != b_codes[None, :]]
        total += len(vals)
        _add_counts_above(counts, vals, thresholds)
    return counts, total
