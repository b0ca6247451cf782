"""Searching a gallery: the threshold in force, fair scoring, the probe quality gate, error
estimates and result assembly (:func:`faceatlas.search.run.run_search`).

Which stored faces may never be shown (opt-outs) is privacy's rule: the searcher is given it
as a hit filter, and a hook to keep probes where the settings ask for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from faceatlas.engine.clip import ClipAnalysis, analyze_clip
from faceatlas.engine.probe_gate import ProbeVerdict, Verdict, assess_probe
from faceatlas.engine.video import VideoLimits
from faceatlas.errors import InvalidRequestError, ModelMismatchError, NoFaceError, ProbeQualityError
from faceatlas.gallery import Gallery
from faceatlas.index.protocol import IndexHit
from faceatlas.search.fairness import FairScorer
from faceatlas.search.fmr import FmrMapping
from faceatlas.search.results import ProbeFace, ProbeTrack, SearchResult
from faceatlas.search.run import SearchSetup, run_search, tighten_for_fpir
from faceatlas.search.threshold import threshold_in_force
from faceatlas.search.video import TrackProbe, probe_tracks
from faceatlas.store.calibrations import CalibrationRecord, latest_calibration, save_calibration
from faceatlas.store.summary import threshold_meta_key
from faceatlas.timing import StageTimer
from faceatlas.types import AnalyzedFace

__all__ = ["HitFilter", "Searcher"]

HitFilter = Callable[[list[IndexHit]], list[IndexHit]]
"""Drops the hits that may not be shown (opt-outs)."""


class Searcher:
    """Search over one gallery, with the scorer and calibration cached per atlas."""

    def __init__(
        self,
        gallery: Gallery,
        *,
        unblocked: HitFilter,
        keep_probe: Callable[[bytes], object],
    ) -> None:
        self.gallery = gallery
        self._unblocked = unblocked
        self._keep_probe = keep_probe
        self._fmr_mapping: tuple[int, FmrMapping] | None = None
        self._fair_scorer: tuple[FairScorer | None] | None = None

    def fair_scorer(self) -> FairScorer | None:
        """The fair scorer in force: the one shipped for this model, unless turned off."""
        if not self.gallery.settings.fair_scoring:
            return None
        if self._fair_scorer is None:
            self._fair_scorer = (FairScorer.shipped(self.gallery.model_id),)
        return self._fair_scorer[0]

    def threshold(self) -> tuple[float, str]:
        """The search threshold in force and where it comes from."""
        g = self.gallery
        calibrated = g.catalog.get_meta(threshold_meta_key(g.model_id))
        scorer = self.fair_scorer()
        return threshold_in_force(
            g.settings.min_similarity,
            None if calibrated is None else float(calibrated),
            None if scorer is None else scorer.threshold,
            lambda: g.card,
        )

    def search_threshold(self) -> tuple[float, str]:
        """The threshold a search without its own uses: :meth:`threshold`, raised to meet
        the target false-candidate rate at the gallery's current size."""
        g = self.gallery
        return tighten_for_fpir(
            *self.threshold(), self.fair_scorer(), g.settings.target_fpir, len(g.index)
        )

    # --- calibration -------------------------------------------------------------------

    def calibration(self) -> CalibrationRecord | None:
        """The latest stored calibration for this gallery's model, if any."""
        return latest_calibration(self.gallery.catalog, self.gallery.model_id)

    def save_calibration(self, record: CalibrationRecord) -> CalibrationRecord:
        """Store a calibration; its threshold becomes the default."""
        if record.model_id != self.gallery.model_id:
            raise ModelMismatchError(
                f"calibration is for {record.model_id}; this atlas uses {self.gallery.model_id}"
            )
        saved = save_calibration(self.gallery.catalog, record)
        self._fmr_mapping = None
        return saved

    def fmr_mapping(self) -> FmrMapping | None:
        """Score-to-FMR mapping of the latest calibration, else the shipped fair scorer's."""
        stored = self.stored_fmr_mapping()
        if stored is not None:
            return stored
        scorer = self.fair_scorer()
        return None if scorer is None else scorer.fmr

    def stored_fmr_mapping(self) -> FmrMapping | None:
        """The mapping of the latest stored calibration only (cached per calibration)."""
        record = self.calibration()
        if record is None:
            return None
        if self._fmr_mapping is None or self._fmr_mapping[0] != record.id:
            self._fmr_mapping = (record.id, FmrMapping.from_dict(record.mapping))
        return self._fmr_mapping[1]

    # --- search ------------------------------------------------------------------------

    def detect(self, data: bytes) -> list[ProbeFace]:
        """The faces of a probe photo, as selectable by :meth:`search`'s ``face``."""
        faces = self.gallery.analyze_probe(data)
        return [ProbeFace(i, f.box, f.quality) for i, f in enumerate(faces)]

    def analyze(self, data: bytes, *, timer: StageTimer | None = None) -> list[AnalyzedFace]:
        """The faces of a probe photo, largest first; the photo is kept where the settings
        ask for it (``store_probes``)."""
        faces = self.gallery.analyze_probe(data, timer=timer)
        if self.gallery.settings.store_probes:
            self._keep_probe(data)
        return faces

    def unblocked(self, hits: list[IndexHit]) -> list[IndexHit]:
        """``hits`` less those that may never be shown (opt-outs)."""
        return self._unblocked(hits)

    def search(
        self,
        data: bytes,
        *,
        face: int | None = None,
        top_k: int | None = None,
        min_similarity: float | None = None,
        timer: StageTimer | None = None,
    ) -> SearchResult:
        """Search with one face of a probe photo (the largest unless ``face`` is given);
        ``timer`` times its stages (``decode``, ``detect``, ``embed``, ``index``, ``catalog``).

        Raises :class:`NoFaceError` when the photo has no face and
        :class:`ProbeQualityError` when the chosen face is too poor to search.
        """
        faces = self.analyze(data, timer=timer)
        chosen, verdict = self.probe_face(faces, face)
        probe = [ProbeFace(i, f.box, f.quality) for i, f in enumerate(faces)]
        result = self.search_vector(
            faces[chosen].embedding,
            probe,
            chosen,
            top_k=top_k,
            min_similarity=min_similarity,
            timer=timer,
        )
        return replace(result, probe_quality=verdict)

    def probe_face(self, faces: list[AnalyzedFace], face: int | None) -> tuple[int, ProbeVerdict]:
        """Which of a probe photo's ``faces`` to search with (``face``, else the largest) and
        the probe quality gate's verdict on it.

        Raises :class:`NoFaceError` when there is no face, :class:`InvalidRequestError` for a
        face that does not exist and :class:`ProbeQualityError` when it is too poor to search.
        """
        if not faces:
            raise NoFaceError("no face found in the photo")
        chosen = 0 if face is None else face
        if not 0 <= chosen < len(faces):
            raise InvalidRequestError(
                f"face {chosen} does not exist; the photo has {len(faces)} face(s)"
            )
        verdict = assess_probe(faces[chosen].quality, self.gallery.card.probe_floors)
        if verdict.verdict is Verdict.REFUSE:
            raise ProbeQualityError(
                f"face {chosen} is too poor to search: " + "; ".join(verdict.reasons)
            )
        return chosen, verdict

    def search_vector(
        self,
        vector: np.ndarray[Any, np.dtype[np.float32]],
        probe_faces: list[ProbeFace] | None = None,
        selected: int = 0,
        *,
        top_k: int | None = None,
        min_similarity: float | None = None,
        timer: StageTimer | None = None,
    ) -> SearchResult:
        """Search with an embedding already computed by this gallery's engine (or several
        frames of one face, ``(k, dim)``: scored by their mean); ``timer``: the ``index`` and
        ``catalog`` stages."""
        g = self.gallery
        scorer = self.fair_scorer()
        if min_similarity is None:
            threshold, source = self.search_threshold()
        else:
            threshold, source = min_similarity, "request"
        setup = SearchSetup(
            model_id=g.model_id,
            index=g.index,
            scorer=scorer,
            fmr=self.fmr_mapping(),
            vectors=lambda ids: g.catalog.vectors_for_faces(g.model_id, ids),
            records=g.catalog.faces,
            unblocked=self._unblocked,
        )
        return run_search(
            setup,
            vector,
            threshold=threshold,
            source=source,
            top_k=top_k or g.settings.top_k,
            probe_faces=probe_faces or (),
            selected=selected,
            timer=timer,
        )

    # --- video probes (faceatlas.search.video) -------------------------------------------

    def clip(self, data: bytes) -> ClipAnalysis:
        """A probe clip's face tracks, within the probe budget (``video_*`` settings)."""
        st = self.gallery.settings
        limits = VideoLimits.from_settings(st, probe=True)
        return analyze_clip(self.gallery.engine, data, limits, thumbnail_px=st.thumbnail_px)

    def video_tracks(self, data: bytes) -> list[ProbeTrack]:
        """The face tracks of a probe clip, as selectable by :meth:`search_video`'s ``track``."""
        return probe_tracks(self.clip(data))

    def search_video(
        self,
        data: bytes,
        *,
        track: int | None = None,
        top_k: int | None = None,
        min_similarity: float | None = None,
    ) -> SearchResult:
        """Search with one face track of a probe clip (the one seen longest unless ``track``
        is given): the mean score over its best frames (:mod:`faceatlas.search.video`)."""
        clip = self.clip(data)
        if self.gallery.settings.store_probes:
            self._keep_probe(data)
        probe = TrackProbe(clip, track, self.gallery.card.probe_floors)
        result = self.search_vector(
            probe.vectors,
            probe.probe_faces,
            probe.selected,
            top_k=top_k,
            min_similarity=min_similarity,
        )
        return replace(
            result,
            probe_quality=probe.verdict,
            probe_tracks=tuple(probe.tracks),
            frames_searched=len(probe.vectors),
        )
