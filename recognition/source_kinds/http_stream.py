"""HTTP cameras (``http://``, ``https://``: MJPEG, H.264, MPEG-TS...) through FFmpeg. No Django imports."""

from __future__ import annotations

from recognition.capture_sources import NetworkStreamKind
from recognition.ffmpeg_options import FFmpegOptions
from recognition.source_base import NetworkScheme, SourcePolicy

# No redirects: a camera (or anything that answers as one) cannot send FFmpeg elsewhere. Streaming formats
# only: playlists (HLS, DASH) name further URLs, on any host, that FFmpeg would fetch.
HTTP_FORMATS = "mpjpeg,mjpeg,jpeg_pipe,h264,hevc,mpegts,flv,matroska,mov,avi"


class HttpKind(NetworkStreamKind):
    networks = (
        NetworkScheme("http", 80, FFmpegOptions({"protocol_whitelist": "http,tcp", "max_redirects": "0",
                                                 "format_whitelist": HTTP_FORMATS})),
        NetworkScheme("https", 443, FFmpegOptions({"protocol_whitelist": "https,http,tls,tcp", "max_redirects": "0",
                                                   "format_whitelist": HTTP_FORMATS})),
    )

    def help_text(self, policy: SourcePolicy) -> str:
        return "http(s):// in the allowed camera networks"


SOURCE_KIND = HttpKind()
