"""RTSP cameras (``rtsp://``, ``rtsps://``) through FFmpeg. No Django imports."""

from __future__ import annotations

from recognition.capture_sources import NetworkStreamKind
from recognition.ffmpeg_options import FFmpegOptions
from recognition.source_base import NetworkScheme, SourcePolicy

# With UDP the server names the address that media and RTCP packets are exchanged with: TCP unless the
# operator chose otherwise.
_TCP = {"rtsp_transport": "tcp"}


class RtspKind(NetworkStreamKind):
    networks = (
        NetworkScheme("rtsp", 554, FFmpegOptions({"protocol_whitelist": "rtsp,rtp,udp,tcp"}, _TCP)),
        NetworkScheme("rtsps", 322, FFmpegOptions({"protocol_whitelist": "rtsps,rtsp,rtp,udp,tcp,tls"}, _TCP)),
    )

    def help_text(self, policy: SourcePolicy) -> str:
        return "rtsp(s):// in the allowed camera networks"


SOURCE_KIND = RtspKind()
