"""Video ingestion on real clips made from the shared photos: one face per appearance with its
time span, bounded work, bad files refused per item, and web sources linking to the time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.engine.video import Stop, VideoLimits, VideoSampler
from faceatlas.errors import ImageTooLargeError, NotAVideoError, VideoDecodeError
from faceatlas.search.results import Hit
from tests.conftest import atlas_settings
from tests.videoclips import CLIP_PEOPLE, encode, people_in_turn, photo_frames
from tests.webfixtures import lfw, web_settings, write_warc
from tests.website import Response, Site

SECONDS = 3
"""Each person of the clip is on screen for this long, one after another."""


@dataclass
class Ingested:
    root: Path
    media: Path
    clip: bytes
    counts: dict[str, int]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Ingested:
    """A folder of a people-in-turn clip, a truncated copy, a text file named .mp4 and a photo,
    ingested once."""
    base = tmp_path_factory.mktemp("video")
    media = base / "media"
    media.mkdir()
    clip = people_in_turn(faces_dir, seconds=SECONDS)
    (media / "turn.mp4").write_bytes(clip)
    (media / "truncated.mp4").write_bytes(clip[: len(clip) // 2])
    (media / "notes.mp4").write_text("minutes of the meeting, not a video\n" * 20)
    (media / "hugo.jpg").write_bytes(lfw(faces_dir, "Hugo_Chavez"))
    with Atlas.open(settings=atlas_settings(base / "atlas")) as atlas:
        report = atlas.ingest(media)
    return Ingested(base / "atlas", media, clip, dict(report.counts))


@pytest.fixture
def atlas(ingested: Ingested, tmp_path: Path) -> Iterator[Atlas]:
    """A private copy of the ingested atlas."""
    shutil.copytree(ingested.root, tmp_path / "atlas")
    with Atlas.open(settings=atlas_settings(tmp_path / "atlas")) as opened:
        yield opened


def video_hits(atlas: Atlas, probe: bytes) -> list[Hit]:
    return [h for h in atlas.search(probe).hits if h.span is not None]


def test_each_appearance_is_one_face_with_its_time_span(ingested: Ingested) -> None:
    counts = ingested.counts
    assert counts["videos"] == 1 and counts["new_images"] == 2  # the clip and the photo
    assert counts["faces"] == len(CLIP_PEOPLE) + 1  # one face per person, not per frame
    assert counts["video_frames"] == len(CLIP_PEOPLE) * SECONDS  # 1 frame a second
    assert counts["failed"] == 2
    assert counts["failed:video_decode_error"] == 1  # the truncated clip
    assert counts["failed:not_a_video"] == 1  # the text file named .mp4


def test_searching_a_person_finds_the_clip_when_they_are_on_screen(
    atlas: Atlas, faces_dir: Path
) -> None:
    for i, person in enumerate(CLIP_PEOPLE):
        hits = video_hits(atlas, lfw(faces_dir, person, 3))  # another photo of them
        assert hits, person
        top = hits[0]
        assert top.span is not None and top.image.format == "mp4"
        assert top.sightings[0].locator.endswith("turn.mp4")
        on, off = i * SECONDS, (i + 1) * SECONDS  # when the person is on screen
        assert on <= top.span.start_s <= on + 1 and off - 1 - 0.01 <= top.span.end_s < off
        assert top.span.start_s <= top.span.best_s <= top.span.end_s
        assert top.span.frames == SECONDS
        as_json = top.as_dict()
        assert as_json["video"]["start_s"] == top.span.start_s
        assert as_json["sightings"][0]["at_time_url"] is None  # a local file: no link


def test_a_file_damaged_later_is_refused_and_what_is_stored_stays(
    ingested: Ingested, atlas: Atlas, faces_dir: Path, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    shutil.copytree(ingested.media, media)
    clip = media / "turn.mp4"
    clip.write_bytes(ingested.clip[: len(ingested.clip) * 2 // 3])  # same name, now truncated
    before = atlas.catalog.counts()
    report = atlas.ingest(media)
    assert report.counts["failed:video_decode_error"] == 2
    assert report.counts["new_images"] == 0
    after = atlas.catalog.counts()
    assert after["faces"] == before["faces"] and after["images"] == before["images"]
    assert video_hits(atlas, lfw(faces_dir, "Tony_Blair", 3))  # the stored clip still answers


def test_a_ten_minute_clip_stays_within_the_frame_budget(tmp_path: Path, faces_dir: Path) -> None:
    minutes, fps = 10, 1
    half = minutes * 60 * fps // 2

    def frames() -> Iterator[object]:
        for person in ("Colin_Powell", "Tony_Blair"):  # five minutes each
            yield from photo_frames(
                faces_dir / "lfw/images" / person / f"{person}_0001.jpg", half, 96
            )

    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "long.mp4").write_bytes(encode(frames(), fps))  # type: ignore[arg-type]
    budget = 24
    settings = atlas_settings(tmp_path / "atlas", video_max_frames=budget)
    with Atlas.open(settings=settings) as atlas:
        report = atlas.ingest(tmp_path / "media")
        assert report.counts["videos"] == 1
        assert report.counts["video_frames"] <= budget
        assert "video_budget:frames" not in report.counts  # the whole clip, sparsely
        faces = atlas.catalog.faces(range(1, 10))
    spans = sorted((f.span for f in faces.values() if f.span), key=lambda s: s.start_s)
    assert len(spans) == 2  # one appearance each, over minutes, not hundreds of faces
    assert spans[0].start_s == 0 and spans[0].end_s >= 240
    assert 300 <= spans[1].start_s <= 320 and spans[1].end_s >= 560


def test_sampling_budgets_and_refusals(faces_dir: Path) -> None:
    people = ("Colin_Powell", "Tony_Blair")
    clip = people_in_turn(faces_dir, people, seconds=30, fps=2, side=64)
    with VideoSampler(clip, VideoLimits(max_frames=12)) as video:
        times = [f.time_s for f in video]
    assert len(times) <= 12 and max(times) >= 50  # stretched to cover the minute
    assert 30.0 in times  # the cut to the second person is sampled
    with VideoSampler(clip, VideoLimits(max_duration_s=10)) as video:
        times = [f.time_s for f in video]
    assert video.stop is Stop.DURATION and max(times) <= 10
    webm = people_in_turn(faces_dir, people, seconds=2, fps=2, side=64, container="webm")
    with VideoSampler(webm, VideoLimits(sample_fps=2)) as video:
        assert video.format == "matroska" and len(list(video)) == 8
    with (
        pytest.raises(VideoDecodeError),
        VideoSampler(clip[: len(clip) // 2], VideoLimits()) as video,
    ):
        list(video)
    with pytest.raises(NotAVideoError):
        VideoSampler(lfw(faces_dir, "Colin_Powell"), VideoLimits())
    with pytest.raises(ImageTooLargeError):  # refused before a frame is decoded
        VideoSampler(clip, VideoLimits(max_pixels=64 * 64 - 1))


def test_web_sources_link_to_the_time_and_privacy_holds(
    atlas: Atlas, ingested: Ingested, faces_dir: Path, tmp_path: Path
) -> None:
    url = "http://media.example.org/clips/turn.mp4"
    warc = tmp_path / "press.warc.gz"
    page = f'<html><title>Press</title><body><video src="{url}"></video></body></html>'.encode()
    write_warc(
        warc,
        [
            ("http://media.example.org/press.html", page, "text/html"),
            (url, ingested.clip, "video/mp4"),
        ],
    )
    report = atlas.ingest(warc)
    assert report.counts["duplicates"] == 1  # the same clip: one more sighting of it
    blair = video_hits(atlas, lfw(faces_dir, "Tony_Blair", 3))[0]
    at_time = [s["at_time_url"] for s in blair.as_dict()["sightings"] if s["at_time_url"]]
    assert at_time == [f"{url}#t={blair.span.start_s:g}"] and blair.span.start_s == SECONDS

    # opt-out: Blair's stored video face goes, and a new clip with him keeps only the others
    request = atlas.privacy.optout_request(
        [lfw(faces_dir, "Tony_Blair", n) for n in (2, 4, 6)], "tony@example.org"
    )
    atlas.privacy.optout_approve(request.id, actor="admin")
    assert not video_hits(atlas, lfw(faces_dir, "Tony_Blair", 3))
    (tmp_path / "more").mkdir()
    again = people_in_turn(faces_dir, ("Tony_Blair", "Hugo_Chavez"), seconds=2, photo=5)
    (tmp_path / "more" / "again.mp4").write_bytes(again)
    report = atlas.ingest(tmp_path / "more")
    assert report.counts["blocked_faces"] == 1 and report.counts["faces"] == 1

    # takedown: the domain's sighting goes, and its clip is refused before it is read
    atlas.privacy.takedown_domain("media.example.org", actor="admin")
    later = tmp_path / "later.warc.gz"
    shutil.copy(warc, later)
    report = atlas.ingest(later)
    assert report.counts["failed:taken_down"] == 1


def test_url_lists_fetch_videos_and_refuse_what_is_not_one(faces_dir: Path, tmp_path: Path) -> None:
    clip = people_in_turn(faces_dir, ("Colin_Powell",), seconds=2, side=96, container="webm")
    routes = {
        "/v/powell.webm": Response(clip, "video/webm"),
        "/v/fake.mp4": Response(b"<html>not a video</html>" * 10, "video/mp4"),
    }
    with Site(routes) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{site.url(path)}\n" for path in routes))
        with Atlas.open(settings=web_settings(tmp_path / "atlas")) as atlas:
            report = atlas.ingest(urls)
            hits = video_hits(atlas, lfw(faces_dir, "Colin_Powell", 3))
    assert report.counts["videos"] == 1 and report.counts["failed:not_an_image"] == 1
    assert hits[0].image.format == "matroska"
    assert hits[0].as_dict()["sightings"][0]["at_time_url"] == site.url("/v/powell.webm#t=0")


def test_reembedding_finds_video_faces_again_in_their_best_frames(
    ingested: Ingested, tmp_path: Path
) -> None:
    shutil.copytree(ingested.root, tmp_path / "atlas")
    settings = atlas_settings(tmp_path / "atlas", engine=EngineName.DLIB)
    report = Atlas.reembed(settings=settings)
    assert report.complete and report.images_unreadable == 0
    assert report.faces_embedded == ingested.counts["faces"]  # the clip's three and the photo
