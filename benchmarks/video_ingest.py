"""Video ingest throughput against still-photo ingest of the same frames, and whether a video
probe's mean score over frames stays calibrated.

1. **Throughput.** Clips are built from LFW photos of people of the *held-out* half
   (``faceatlas.eval.corpus.split_identities``): in each clip ``--people`` people are filmed
   one after another, ``--seconds`` each, by a camera panning across a 320x240 frame at
   ``--fps`` frames per second (H.264 in MP4). The clips are ingested into a fresh atlas (the
   product's defaults: 1 frame a second plus scene cuts, face tracking). Then exactly the
   frames that run analysed are written as PNG stills (the same pixels) and ingested into
   another fresh atlas; the two ingests alternate ``--repeats`` times and the medians are
   compared. Printed: frames analysed per second (wall clock, and per CPU second of the
   process: with one worker the analysis runs in it, so CPU time is robust to a busy machine)
   and faces kept per minute of video for both, and their ratios (video / stills); the time
   spent decoding and sampling alone is measured separately.
2. **Calibration of the mean over frames.** On the held-out half of LFW (embeddings from the
   shared cache when there is one), each person with at least 4 photos is a probe of 3
   photos (their first three) and their 4th photo is the mated face; the first photo of
   every other held-out person is an impostor face. The fair score's shipped threshold (and
   lower scores, where impostor counts are large enough to compare) is applied to the first
   photo alone and to the mean over the 3 photos. Nothing is fitted here. Three photos of a
   person are far less alike than three frames of one appearance, so this is a harder test
   of the mean than video.

    python benchmarks/video_ingest.py [--faces ../shared/faces] [--clips 4] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from faceatlas import Atlas, Settings
from faceatlas.engine import EngineSpec
from faceatlas.engine.video import VideoLimits, VideoSampler
from faceatlas.eval.corpus import Half, lfw_corpus, split_identities
from faceatlas.eval.embedded import embed_corpus
from faceatlas.search.fairness import FairScorer
from lfw_model import embedding_progress

ROOT = Path(__file__).resolve().parent.parent
FRAME = (320, 240)
PROBE_PHOTOS = 3


def held_out_people(faces: Path, count: int) -> list[Path]:
    """The first photo of the first ``count`` held-out LFW people (sorted by name)."""
    people = sorted(p for p in (faces / "lfw" / "images").iterdir() if p.is_dir())
    sides = split_identities("lfw", [p.name for p in people])
    chosen = [p for p, side in zip(people, sides, strict=True) if side is Half.HELD_OUT]
    return [sorted(p.glob("*.jpg"))[0] for p in chosen[:count]]


def clip_frames(photos: list[Path], seconds: int, fps: int) -> Iterator[np.ndarray]:
    """Each photo (200 px) on a grey 320x240 frame, the camera panning 1 px a frame."""
    for photo in photos:
        with Image.open(photo) as img:
            face = img.convert("RGB").resize((200, 200), Image.Resampling.BILINEAR)
        for i in range(seconds * fps):
            canvas = Image.new("RGB", FRAME, (118, 120, 124))
            canvas.paste(face, (20 + (i % 100), 20))
            yield np.asarray(canvas, dtype=np.uint8)


def write_clip(path: Path, frames: Iterator[np.ndarray], fps: int) -> None:
    import av

    with av.open(str(path), mode="w") as video:
        stream = video.add_stream("libx264", rate=fps)
        stream.width, stream.height = FRAME
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                video.mux(packet)
        for packet in stream.encode():
            video.mux(packet)


def ingest(settings: Settings, folder: Path, workers: int) -> tuple[float, float, dict[str, int]]:
    """``(wall seconds, CPU seconds of this process, report counts)`` of one ingest into a
    fresh atlas. With one worker the analysis runs in this process, so its CPU time is the
    work done, whatever else the machine is running."""
    shutil.rmtree(settings.atlas_dir, ignore_errors=True)
    with Atlas.open(settings=settings) as atlas:
        atlas.engine.load()
        started, cpu = time.perf_counter(), time.process_time()
        report = atlas.ingest(folder, workers=workers)
        return time.perf_counter() - started, time.process_time() - cpu, dict(report.counts)


def throughput(args: argparse.Namespace, work: Path) -> None:
    photos = held_out_people(args.faces, args.clips * args.people)
    clips = work / "clips"
    clips.mkdir()
    for c in range(args.clips):
        group = photos[c * args.people : (c + 1) * args.people]
        write_clip(clips / f"clip{c:02d}.mp4", clip_frames(group, args.seconds, args.fps), args.fps)
    minutes = args.clips * args.people * args.seconds / 60
    settings = Settings(atlas_dir=work / "video-atlas", identity_cluster_on_ingest=False)
    limits = VideoLimits.from_settings(settings)
    stills = work / "stills"
    stills.mkdir()
    started = time.perf_counter()
    sampled = 0
    for clip in sorted(clips.iterdir()):
        with VideoSampler(clip.read_bytes(), limits) as video:
            for frame in video:
                name = f"{clip.stem}-{frame.time_s:08.2f}.png"
                Image.fromarray(frame.pixels).save(stills / name, compress_level=1)
                sampled += 1
    decode_s = time.perf_counter() - started  # includes writing the PNGs: an upper bound
    still_settings = Settings(atlas_dir=work / "still-atlas", identity_cluster_on_ingest=False)
    runs = []  # alternating, so that a change in the machine's load hits both sides
    for _ in range(args.repeats):
        video_s, video_cpu, video = ingest(settings, clips, args.workers)
        still_s, still_cpu, still = ingest(still_settings, stills, args.workers)
        assert video["video_frames"] == sampled == still["items"], (video, sampled, still)
        runs.append((video_s, video_cpu, still_s, still_cpu))
    video_s, video_cpu, still_s, still_cpu = (
        statistics.median(r[i] for r in runs) for i in range(4)
    )
    v_rate, s_rate = sampled / video_s, sampled / still_s
    v_faces, s_faces = video["faces"] / minutes, still["faces"] / minutes
    print(
        f"video: {args.clips} clips, {minutes:.1f} min at {args.fps} fps "
        f"({args.people} people x {args.seconds} s each, {FRAME[0]}x{FRAME[1]})"
    )
    print(f"  frames analysed            {sampled}")
    print(f"  decode + sample alone      {decode_s:.2f} s (with PNG writing)")
    print(
        f"  runs (wall s, CPU s)       video / stills: {[tuple(round(x, 1) for x in r) for r in runs]}"
    )
    print(f"  video ingest (median)      {video_s:.2f} s: {v_rate:.2f} frames analysed/s")
    print(f"  still ingest, same frames  {still_s:.2f} s: {s_rate:.2f} frames/s")
    print(f"  ratio video/still          {v_rate / s_rate:.2f} (frames analysed per wall second)")
    print(
        f"  CPU s per frame            video {video_cpu / sampled:.3f}, stills {still_cpu / sampled:.3f}"
    )
    print(
        f"  ratio video/still          {still_cpu / video_cpu:.2f} (frames analysed per CPU second)"
    )
    print(f"  faces kept per minute      video {v_faces:.1f}, stills {s_faces:.1f}")
    print(f"  ratio video/still          {v_faces / s_faces:.3f} (faces kept per minute)")
    print(f"  appearances in the clips   {args.clips * args.people}; video faces {video['faces']}")


def calibration(args: argparse.Namespace) -> None:
    spec = EngineSpec()
    corpus = lfw_corpus(args.faces / "lfw")
    held = (
        embed_corpus(
            corpus,
            spec,
            workers=args.workers,
            cache_dir=args.cache_dir,
            progress=embedding_progress,
        )
        .half(Half.HELD_OUT)
        .usable()
    )
    scorer = FairScorer.shipped(_model_id(spec))
    assert scorer is not None
    by_person = held.corpus.by_identity()
    probes = [idx for idx in by_person.values() if len(idx) >= PROBE_PHOTOS + 1]
    offsets = scorer.face_offsets(held.vectors)
    firsts = np.asarray([idx[0] for idx in by_person.values()])
    owner = {i: n for n, idx in enumerate(by_person.values()) for i in idx}
    thresholds = sorted({0.35, 0.4, 0.45, round(scorer.threshold, 3)})
    single = np.zeros(len(thresholds), np.int64)
    mean = np.zeros(len(thresholds), np.int64)
    pairs = 0
    mated_single = np.zeros(len(thresholds), np.int64)
    mated_mean = np.zeros(len(thresholds), np.int64)
    for idx in probes:
        frames = np.asarray(idx[:PROBE_PHOTOS])
        gallery = firsts[[owner[int(i)] != owner[int(frames[0])] for i in firsts]]
        s = scorer.combine(
            held.vectors[frames] @ held.vectors[gallery].T, offsets[frames], offsets[gallery]
        )
        mated = scorer.combine(
            held.vectors[frames] @ held.vectors[[idx[PROBE_PHOTOS]]].T,
            offsets[frames],
            offsets[[idx[PROBE_PHOTOS]]],
        )
        pairs += s.shape[1]
        for k, t in enumerate(thresholds):
            single[k] += int((s[0] >= t).sum())
            mean[k] += int((s.mean(axis=0) >= t).sum())
            mated_single[k] += int(mated[0, 0] >= t)
            mated_mean[k] += int(mated.mean() >= t)
    print(
        f"calibration: {len(probes)} held-out LFW people with >= {PROBE_PHOTOS + 1} photos, "
        f"{pairs:,} impostor comparisons, fair score"
    )
    print("  threshold  FMR first photo   FMR mean of 3     mated found: first / mean of 3")
    for k, t in enumerate(thresholds):
        print(
            f"  {t:8.3f}  {single[k] / pairs:.2e} ({single[k]:5d})  "
            f"{mean[k] / pairs:.2e} ({mean[k]:5d})  "
            f"{mated_single[k] / len(probes):.3f} / {mated_mean[k] / len(probes):.3f}"
        )


def _model_id(spec: EngineSpec) -> str:
    from faceatlas.engine import create_engine

    return create_engine(spec).model_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--people", type=int, default=6, help="people per clip")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per person")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="alternating video/still runs")
    default_cache = os.environ.get("FACEATLAS_CACHE_DIR")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(default_cache) if default_cache else None
    )
    parser.add_argument("--skip-calibration", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faceatlas-video-") as tmp:
        throughput(args, Path(tmp))
    if not args.skip_calibration:
        calibration(args)


if __name__ == "__main__":
    main()
