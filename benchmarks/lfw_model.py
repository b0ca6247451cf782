"""A generative model of face embeddings fitted to the real dlib embeddings of LFW.

Method (stated in ``docs/scaling.md``):

* Read the cached embeddings of every LFW photo (``faceatlas.eval.embed`` cache; no
  model runs here) and group them by person.
* Within-identity spread: pooled covariance ``S_w`` of each photo around its person's
  mean, over people with two or more photos (divided by ``sum(n_i - 1)``, unbiased).
* Between-identity spread: covariance of the person means minus the share the
  within-identity noise contributes to a mean of ``n_i`` photos,
  ``S_b = cov(means) - mean(1/n_i) S_w`` (negative eigenvalues clipped).
* A synthetic person is a centre ``c ~ N(m, S_b)``; each of their faces is
  ``c + s e``, ``e ~ N(0, S_w)``, normalised to unit length like the engine's output;
  ``s`` is one real person's noise scale relative to the pooled one, drawn per
  synthetic person, so some people vary more than others as in LFW.
  Faces per synthetic person follow LFW's own photos-per-person counts (capped).
* Two scalars, one on each covariance, are adjusted so that synthetic mated and
  non-mated cosine similarities have the real means; the validation table reports
  mean, spread and tails of both, real against synthetic.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceatlas.choices import EngineName
from faceatlas.engine import EngineSpec
from faceatlas.eval.embed import embed_photos
from faceatlas.ingest import IngestProgress

FACES = Path(
    os.environ.get("FACEATLAS_TEST_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces")
)
"""The shared photos (``../shared/faces``, or ``$FACEATLAS_TEST_FACES``)."""
LFW_IMAGES = FACES / "lfw" / "images"
MAX_FACES_PER_PERSON = 30


@dataclass(frozen=True)
class RealSet:
    vectors: np.ndarray  # float32 (n, 128), unit norm
    person: np.ndarray  # int32 (n,), person index
    names: list[str]


def embedding_progress(done: int, total: int) -> None:
    """Progress of building the embedding cache, on stderr (about every 5%)."""
    if done == total or done % max(1, total // 20) < 32:
        sys.stderr.write(f"embedding photos not yet cached: {done}/{total}\n")


def ingest_progress(progress: IngestProgress) -> None:
    """Progress of an ingest, on stderr (about every 5%)."""
    step = max(1, (progress.total or 2000) // 20)
    if progress.done % step == 0 or progress.done == progress.total:
        sys.stderr.write(
            f"ingested {progress.done}/{progress.total or '?'} items, {progress.faces} faces\n"
        )


def load_lfw_embeddings(
    cache_dir: Path,
    faces_dir: Path = FACES,
    workers: int = 2,
    engine: EngineName = EngineName.DLIB,
) -> RealSet:
    """LFW's embeddings by ``engine`` (detected or centred-box; unreadable photos dropped), from
    the evaluation cache, which is built here (with progress) for whatever photos it lacks."""
    spec = EngineSpec.for_engine(engine)
    photos = sorted((faces_dir / "lfw" / "images").glob("*/*.jpg"))
    emb = embed_photos(
        photos, spec, workers=workers, cache_dir=cache_dir, progress=embedding_progress
    )
    paths, vectors, status = list(emb.paths), emb.vectors, emb.status
    keep = [i for i, p in enumerate(paths) if status[i] != 2 and "/lfw/images/" in p]
    names = [Path(paths[i]).parent.name for i in keep]
    uniq = sorted(set(names))
    index = {n: i for i, n in enumerate(uniq)}
    return RealSet(
        vectors=vectors[keep],
        person=np.asarray([index[n] for n in names], dtype=np.int32),
        names=uniq,
    )


@dataclass
class FaceModel:
    mean: np.ndarray
    chol_between: np.ndarray
    chol_within: np.ndarray
    faces_per_person: np.ndarray  # empirical counts to draw from
    person_spread: np.ndarray  # empirical per-person noise scale relative to the pooled one
    scale_between: float = 1.0
    scale_within: float = 1.0

    def people(
        self, rng: np.random.Generator, n_people: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n_people`` centres (float32), a face count and a noise scale for each."""
        z = rng.standard_normal((n_people, self.mean.size), dtype=np.float32)
        centres = self.mean + self.scale_between * (z @ self.chol_between.T)
        counts = rng.choice(self.faces_per_person, size=n_people)
        spread = rng.choice(self.person_spread, size=n_people)
        return centres.astype(np.float32), counts.astype(np.int64), spread.astype(np.float32)

    def faces(
        self, rng: np.random.Generator, centres: np.ndarray, spread: np.ndarray
    ) -> np.ndarray:
        """One unit-norm face per row of ``centres``, with that row's noise scale."""
        z = rng.standard_normal(centres.shape, dtype=np.float32)
        x = centres + (self.scale_within * spread)[:, None] * (z @ self.chol_within.T)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float32)


def _chol(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    w = np.clip(w, 0.0, None)
    return (v * np.sqrt(w)).astype(np.float32)


def fit(real: RealSet) -> FaceModel:
    counts = np.bincount(real.person)
    multi = np.flatnonzero(counts >= 2)
    means = np.stack([real.vectors[real.person == p].mean(axis=0) for p in multi])
    mean_of = {int(p): means[i] for i, p in enumerate(multi)}
    rows = [i for i in range(len(real.person)) if counts[real.person[i]] >= 2]
    resid = np.stack([real.vectors[i] - mean_of[int(real.person[i])] for i in rows])
    s_w = resid.T @ resid / float((counts[multi] - 1).sum())
    # each person's own noise energy relative to the pooled one (unbiased per person)
    energy = np.bincount(
        real.person[rows], weights=np.einsum("ij,ij->i", resid, resid), minlength=len(counts)
    )[multi] / (counts[multi] - 1)
    spread = np.sqrt(energy / float(np.trace(s_w)))
    s_means = np.cov(means, rowvar=False)
    s_b = s_means - float(np.mean(1.0 / counts[multi])) * s_w
    return FaceModel(
        mean=means.mean(axis=0).astype(np.float32),
        chol_between=_chol(s_b),
        chol_within=_chol(s_w),
        faces_per_person=np.minimum(counts, MAX_FACES_PER_PERSON),
        person_spread=spread.astype(np.float32),
    )


def cosine_stats(real_or_synth: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> dict:
    """Mated / non-mated cosine statistics over random pairs of a labelled set."""
    x, person = real_or_synth
    order = np.argsort(person, kind="stable")
    x, person = x[order], person[order]
    same_a, same_b = [], []
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    ends = np.r_[starts[1:], len(person)]
    for s, e in zip(starts, ends, strict=True):
        if e - s >= 2:
            same_a.append(s)
            same_b.append(s + 1)
    mated = np.einsum("ij,ij->i", x[same_a], x[same_b])
    a = rng.integers(0, len(x), 200_000)
    b = rng.integers(0, len(x), 200_000)
    keep = person[a] != person[b]
    non = np.einsum("ij,ij->i", x[a[keep]], x[b[keep]])
    return {
        "mated_mean": float(mated.mean()),
        "mated_std": float(mated.std()),
        "mated_p01": float(np.percentile(mated, 1)),
        "non_mean": float(non.mean()),
        "non_std": float(non.std()),
        "non_p999": float(np.percentile(non, 99.9)),
        "pairs": (len(mated), int(keep.sum())),
    }


def synth_labelled(
    model: FaceModel, rng: np.random.Generator, n_people: int
) -> tuple[np.ndarray, np.ndarray]:
    centres, counts, spread = model.people(rng, n_people)
    person = np.repeat(np.arange(n_people), counts)
    return model.faces(rng, centres[person], spread[person]), person


def calibrate(model: FaceModel, real_stats: dict, rng: np.random.Generator) -> FaceModel:
    """Match the real mated and non-mated cosine means with one scalar per covariance."""
    for _ in range(6):
        s = cosine_stats(synth_labelled(model, rng, 5000), rng)
        model.scale_within *= float(
            np.sqrt((1 - real_stats["mated_mean"]) / max(1e-6, 1 - s["mated_mean"]))
        )
        model.scale_between *= float(
            np.sqrt((1 - real_stats["non_mean"]) / max(1e-6, 1 - s["non_mean"]))
        )
    return model
