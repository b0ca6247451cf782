"""Perceptual-hash folding: copies fold, look-alike photos of other people never do."""

from __future__ import annotations

import shutil
from pathlib import Path

from faceatlas import Atlas
from faceatlas.ingest.phash import hamming, perceptual_hash

from .conftest import atlas_settings
from .webfixtures import lfw, resized_copy


def test_copies_fold_and_lookalike_photos_of_other_people_do_not(
    tmp_path: Path, faces_dir: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    powell = lfw(faces_dir, "Colin_Powell")
    (folder / "a_powell.jpg").write_bytes(powell)
    (folder / "b_powell_small.jpg").write_bytes(resized_copy(powell, 150, 60))
    # Two LFW photos of different people whose perceptual hashes are 4 bits apart
    # (found by benchmarks/phash_lfw.py): the hash alone would fold them.
    glover = faces_dir / "lfw/images/Danny_Glover/Danny_Glover_0001.jpg"
    djukanovic = faces_dir / "lfw/images/Milo_Djukanovic/Milo_Djukanovic_0001.jpg"
    hg = perceptual_hash(glover.read_bytes(), max_pixels=10**8)
    hd = perceptual_hash(djukanovic.read_bytes(), max_pixels=10**8)
    assert hg is not None and hd is not None and hamming(hg.bits, hd.bits) <= 4
    shutil.copy(glover, folder / "c_glover.jpg")
    shutil.copy(djukanovic, folder / "d_djukanovic.jpg")

    with Atlas.open(settings=atlas_settings(tmp_path / "atlas", near_duplicate_bits=4)) as atlas:
        report = atlas.ingest(folder)
        counts = report.counts
        assert counts["new_images"] == 3  # powell, glover, djukanovic
        assert counts["near_duplicates"] == 1  # the small powell
        assert counts["near_duplicates_rejected"] == 1  # djukanovic is not glover
        result = atlas.search(djukanovic.read_bytes())
        assert [s.locator.rsplit("/", 1)[1] for s in result.hits[0].sightings] == [
            "d_djukanovic.jpg"
        ]
        powell_hit = atlas.search(powell).hits[0]
        assert sorted(s.locator.rsplit("/", 1)[1] for s in powell_hit.sightings) == [
            "a_powell.jpg",
            "b_powell_small.jpg",
        ]
