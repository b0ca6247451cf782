"""The demographics suite: error rates per group at one global threshold (NIST IR 8280 style).

For each group of one attribute (say gender) and each threshold:

* FMR within the group: pairs of two *different* people who are both in the
  group. This is where false matches concentrate (people who share sex, age
  and ancestry look more alike), so it is the rate that matters to a person
  who might be wrongly matched.
* FNMR within the group: pairs of photos of the same person.
* FMR across groups: pairs of different people from two groups.

Every rate carries its count, its number of comparisons and a 95% Wilson
interval. The worst-to-best ratio compares groups at the same threshold.
Each person counts with at most ``max_per_identity`` photos.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from faceatlas.errors import InvalidRequestError
from faceatlas.eval.embedded import (
    EmbeddedCorpus,
    count_between_above,
    count_cross_identity_above,
    identity_codes,
    same_identity_scores,
)
from faceatlas.eval.rates import Rate, rate
from faceatlas.types import JsonRecord, record

__all__ = ["DemographicsResult", "GroupRates", "run_demographics"]

DEFAULT_MAX_PER_IDENTITY = 5
MIN_GROUP_PEOPLE = 2


@record
class GroupRates(JsonRecord):
    group: str
    people: int
    photos: int
    fmr: dict[str, Rate]
    fnmr: dict[str, Rate]


@record
class DemographicsResult:
    corpus: str
    attribute: str
    thresholds: dict[str, float]
    groups: tuple[GroupRates, ...]
    cross_fmr: dict[str, dict[str, dict[str, Any]]]
    unlabelled_photos: int

    def ratio(self, kind: str, threshold_name: str) -> dict[str, Any]:
        """Worst group rate over best group rate; undefined when the best is zero."""
        rates = [
            (g.group, (g.fmr if kind == "fmr" else g.fnmr)[threshold_name]) for g in self.groups
        ]
        rates = [(name, r) for name, r in rates if r.trials > 0]
        if len(rates) < 2:
            return {"ratio": None, "note": "fewer than two groups with comparisons"}
        worst = max(rates, key=lambda x: x[1].value)
        best = min(rates, key=lambda x: x[1].value)
        value = worst[1].value / best[1].value if best[1].value > 0 else None
        return {
            "worst": worst[0],
            "best": best[0],
            "ratio": None if value is None else round(value, 3),
            "note": "" if value is not None else "best group had no errors: ratio undefined",
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "attribute": self.attribute,
            "thresholds": {k: round(v, 6) for k, v in self.thresholds.items()},
            "groups": [g.as_dict() for g in self.groups],
            "worst_to_best": {
                kind: {name: self.ratio(kind, name) for name in self.thresholds}
                for kind in ("fmr", "fnmr")
            },
            "cross_group_fmr": self.cross_fmr,
            "unlabelled_photos": self.unlabelled_photos,
        }


def run_demographics(
    corpus: EmbeddedCorpus,
    attribute: str,
    thresholds: Mapping[str, float],
    *,
    max_per_identity: int = DEFAULT_MAX_PER_IDENTITY,
) -> DemographicsResult:
    """Per-group FMR/FNMR of ``corpus`` grouped by ``attribute`` at each named threshold."""
    if attribute not in corpus.corpus.groups:
        known = ", ".join(sorted(corpus.corpus.groups)) or "none"
        raise InvalidRequestError(
            f"{corpus.corpus.name} has no {attribute!r} labels (has: {known})"
        )
    names = list(thresholds)
    values = [float(thresholds[n]) for n in names]
    data = corpus.usable().capped(max_per_identity)
    labels = data.corpus.groups[attribute]
    members: dict[str, list[int]] = {}
    for i, g in enumerate(labels):
        if g is not None:
            members.setdefault(g, []).append(i)
    groups: list[GroupRates] = []
    kept: dict[str, np.ndarray] = {}
    for group in sorted(members):
        idx = np.asarray(members[group])
        part = data.subset(idx)
        people = len(part.corpus.by_identity())
        if people < MIN_GROUP_PEOPLE:
            continue
        kept[group] = idx
        codes = identity_codes(part.corpus.identities)
        false_matches, pairs = count_cross_identity_above(part.vectors, codes, values, part.offsets)
        genuine = same_identity_scores(part.vectors, codes, part.offsets)
        groups.append(
            GroupRates(
                group=group,
                people=people,
                photos=len(idx),
                fmr={n: rate(k, pairs) for n, k in zip(names, false_matches, strict=True)},
                fnmr={
                    n: rate(int((genuine < v).sum()), len(genuine))
                    for n, v in zip(names, values, strict=True)
                },
            )
        )
    all_codes = identity_codes(data.corpus.identities)
    cross: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in names}
    order = sorted(kept)
    for i, g1 in enumerate(order):
        for g2 in order[i + 1 :]:
            off = data.offsets
            counts, pairs = count_between_above(
                data.vectors[kept[g1]],
                all_codes[kept[g1]],
                data.vectors[kept[g2]],
                all_codes[kept[g2]],
                values,
                None if off is None else off[kept[g1]],
                None if off is None else off[kept[g2]],
            )
            for n, k in zip(names, counts, strict=True):
                cross[n][f"{g1} x {g2}"] = rate(k, pairs).as_dict()
    if not groups:
        raise InvalidRequestError(f"no {attribute} group has {MIN_GROUP_PEOPLE} or more people")
    return DemographicsResult(
        corpus=data.corpus.name,
        attribute=attribute,
        thresholds=dict(zip(names, values, strict=True)),
        groups=tuple(groups),
        cross_fmr=cross,
        unlabelled_photos=sum(1 for g in labels if g is None),
    )
