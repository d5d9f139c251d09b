"""Editing mp4 files without re-encoding (packet copy): append episodes to a file, cut a file
short, read its duration. The writer, crash recovery and the dataset tools share these.
"""

from __future__ import annotations

from pathlib import Path

from lerobot_fn.data.errors import EncoderError


def concat_videos(inputs: list[Path], output: Path) -> None:
    """Append mp4 files one after the other into `output` without re-encoding (packet copy).

    Timestamps of each input are shifted by the end of the previous ones, so an episode
    appended to a file starts where the file ended (its `from_timestamp`).
    """
    import av

    out = av.open(str(output), "w", format="mp4", options={"movflags": "faststart"})
    try:
        ostream = None
        offset = 0  # in output stream time_base units
        for path in inputs:
            with av.open(str(path)) as inp:
                istream = inp.streams.video[0]
                if ostream is None:
                    ostream = out.add_stream_from_template(istream, opaque=True)
                    ostream.time_base = istream.time_base
                if istream.time_base != ostream.time_base:
                    raise EncoderError(
                        f"cannot append {path} to {output}: time base {istream.time_base} differs "
                        f"from {ostream.time_base} (videos must share codec settings and fps)"
                    )
                end = offset
                for packet in inp.demux(istream):
                    if packet.dts is None:
                        continue
                    duration = packet.duration or 0
                    packet.pts = packet.pts + offset if packet.pts is not None else None
                    packet.dts = packet.dts + offset
                    end = max(end, (packet.pts if packet.pts is not None else packet.dts) + duration)
                    packet.stream = ostream
                    out.mux(packet)
                if istream.duration is not None:
                    end = max(end, offset + istream.duration)
                offset = end
    finally:
        out.close()


def video_duration_s(path: Path) -> float:
    """Duration of an mp4's first video stream in seconds (stream duration x time base)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration is not None:
            return float(s.duration * s.time_base)
        return float(c.duration / av.time_base)


def trim_video(path: Path, output: Path, end_s: float) -> None:
    """Copy the packets of `path` whose presentation time is before `end_s` into `output`."""
    import av

    with av.open(str(path)) as inp:
        istream = inp.streams.video[0]
        out = av.open(str(output), "w", format="mp4", options={"movflags": "faststart"})
        try:
            ostream = out.add_stream_from_template(istream, opaque=True)
            ostream.time_base = istream.time_base
            limit = end_s / float(istream.time_base) - 0.5
            for packet in inp.demux(istream):
                if packet.dts is None or packet.pts is None or packet.pts >= limit:
                    continue
                packet.stream = ostream
                out.mux(packet)
        finally:
            out.close()
