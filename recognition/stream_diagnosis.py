"""Why a network camera could not be opened, in words an operator can act on. No Django imports.

OpenCV says only that a capture did not open. When it did not, the camera is asked once more, directly and
briefly: an RTSP DESCRIBE or an HTTP GET to the address that was checked (never a name resolved again, never
a redirect followed), reading at most a few kilobytes. What comes back becomes the camera's status detail:
wrong or missing credentials, no stream at that path, a playlist or a format that is refused, a server that
accepts connections and says nothing. Messages never repeat the URL's user name or password.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import socket
import ssl
from urllib.parse import unquote

from recognition.source_urls import CheckedURL

MAX_ANSWER_BYTES = 16 * 1024
_STATUS_LINE = re.compile(rb"^(RTSP|HTTP)/\d\.\d (\d{3}) ?([^\r\n]*)")
_CHALLENGE_PARAMETER = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def open_failure_reason(checked: CheckedURL, *, timeout: float) -> str | None:
    """What the camera answers that explains a failed open; None when its answer looks fine (the stream
    itself is then what FFmpeg could not use)."""
    port = checked.connect_port
    address = str(checked.addresses[0])
    try:
        if checked.scheme == "rtsp":
            return _rtsp_reason(checked, address, port, timeout)
        if checked.scheme in ("http", "https"):
            return _http_reason(checked, address, port, timeout)
        return _connect_reason(address, port, timeout)
    except ConnectionRefusedError:
        return f"connection refused: nothing listens on port {port}"
    except TimeoutError:
        return f"the camera accepted the connection but sent nothing within {timeout:g} s"
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return f"the camera's answer could not be read ({type(exc).__name__})"


def _connect_reason(address: str, port: int, timeout: float) -> None:
    with socket.create_connection((address, port), timeout=timeout):
        return None


def _credentials(checked: CheckedURL) -> tuple[str, str] | None:
    if not checked.userinfo:
        return None
    user, _, password = checked.userinfo.partition(":")
    return unquote(user), unquote(password)


def _request_url(checked: CheckedURL) -> str:
    """The URL as the request line carries it: the checked address, no user name or password."""
    address = checked.addresses[0]
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{checked.scheme}://{host}{f':{checked.port}' if checked.port else ''}{checked.path_and_query}"


def _credentials_reason(checked: CheckedURL, code: int, protocol: str) -> str:
    if _credentials(checked) is None:
        return f"the camera requires a user name and password and the URL has none ({protocol} {code})"
    return f"the camera refused the user name or password in the URL ({protocol} {code})"


def _answer_reason(code: int, text: str, protocol: str) -> str | None:
    if code == 404:
        return f"the camera has no stream at this path ({protocol} 404)"
    if code == 403:
        return f"the camera refused access to this stream ({protocol} 403)"
    if 300 <= code < 400:
        return f"the camera redirects elsewhere, and redirects are refused ({protocol} {code})"
    if code >= 400:
        return f"the camera answered {protocol} {code} {text}".rstrip()
    return None


# --- RTSP ---------------------------------------------------------------------------------------------

def _rtsp_reason(checked: CheckedURL, address: str, port: int, timeout: float) -> str | None:
    url = _request_url(checked)
    with socket.create_connection((address, port), timeout=timeout) as connection:
        code, text, headers, body = _rtsp_describe(connection, url, 1, None)
        if code == 401 and (credentials := _credentials(checked)) is not None:
            authorization = _authorization(headers.get("www-authenticate", ""), credentials, "DESCRIBE", url)
            if authorization is not None:
                code, text, headers, body = _rtsp_describe(connection, url, 2, authorization)
    if code == 401:
        return _credentials_reason(checked, code, "RTSP")
    if code == 200:
        return _sdp_reason(body)
    return _answer_reason(code, text, "RTSP")


def _sdp_reason(sdp: bytes) -> str | None:
    """A session description without a video stream, or with no video codec we decode, said in words."""
    media = [line.split()[0][2:] for line in sdp.decode("latin-1").splitlines() if line.startswith("m=") and
             line.split()]
    if media and "video" not in media:
        return f"the camera's stream has no video (it offers {', '.join(sorted(set(media)))})"
    return None


def _rtsp_describe(connection: socket.socket, url: str, sequence: int,
                   authorization: str | None) -> tuple[int, str, dict[str, str], bytes]:
    request = f"DESCRIBE {url} RTSP/1.0\r\nCSeq: {sequence}\r\nAccept: application/sdp\r\nUser-Agent: lfr-portal\r\n"
    if authorization:
        request += f"Authorization: {authorization}\r\n"
    connection.sendall((request + "\r\n").encode("ascii"))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(4096)
        if not chunk:
            break
        answer += chunk
        if len(answer) > MAX_ANSWER_BYTES:
            break
    head, _, body = answer.partition(b"\r\n\r\n")
    status = _STATUS_LINE.match(head)
    if status is None or status.group(1) != b"RTSP":
        raise ValueError("not an RTSP answer")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    body = _rest_of_body(connection, body, int(headers.get("content-length", "0") or 0))
    return int(status.group(2)), status.group(3).decode("latin-1"), headers, body


def _rest_of_body(connection: socket.socket, received: bytes, length: int) -> bytes:
    wanted = min(length, MAX_ANSWER_BYTES)
    while len(received) < wanted:
        chunk = connection.recv(min(wanted - len(received), 4096))
        if not chunk:
            break
        received += chunk
    return received[:wanted]


def _authorization(challenge: str, credentials: tuple[str, str], method: str, uri: str) -> str | None:
    """The Authorization header answering a Basic or Digest (MD5) challenge; None for other schemes."""
    scheme, _, parameters = challenge.strip().partition(" ")
    user, password = credentials
    if scheme.lower() == "basic":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    if scheme.lower() != "digest":
        return None
    values = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _CHALLENGE_PARAMETER.finditer(parameters)}
    if values.get("algorithm", "MD5").upper() != "MD5" or "nonce" not in values:
        return None

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    realm, nonce = values.get("realm", ""), values["nonce"]
    first, second = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    fields = f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if "auth" in [q.strip() for q in values.get("qop", "").split(",")]:
        client_nonce = hashlib.sha256(nonce.encode()).hexdigest()[:16]
        response = md5(f"{first}:{nonce}:00000001:{client_nonce}:auth:{second}")
        return f'Digest {fields}, response="{response}", qop=auth, nc=00000001, cnonce="{client_nonce}"'
    return f'Digest {fields}, response="{md5(f"{first}:{nonce}:{second}")}"'


# --- HTTP ---------------------------------------------------------------------------------------------

def _http_get(checked: CheckedURL, address: str, port: int, timeout: float, path: str,
              authorization: str | None) -> tuple[http.client.HTTPResponse, bytes]:
    """The answer's status and headers, and its first bytes; redirects are not followed."""
    if checked.scheme == "https":
        # As FFmpeg does by default for cameras (self-signed certificates): the answer is only read.
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
    headers = {"Host": checked.host_header or address, "User-Agent": "lfr-portal", "Accept": "*/*"}
    if authorization:
        headers["Authorization"] = authorization
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer, answer.read(512)
    finally:
        connection.close()


def _http_reason(checked: CheckedURL, address: str, port: int, timeout: float) -> str | None:
    path = checked.path_and_query or "/"
    answer, start = _http_get(checked, address, port, timeout, path, None)
    credentials = _credentials(checked)
    # As FFmpeg does, credentials go only in answer to the camera's challenge, and (here) never over an HTTPS
    # connection whose certificate was not checked.
    if answer.status == 401 and credentials is not None and checked.scheme == "http":
        authorization = _authorization(answer.getheader("WWW-Authenticate") or "", credentials, "GET", path)
        if authorization is not None:
            answer, start = _http_get(checked, address, port, timeout, path, authorization)
    if answer.status == 401:
        if credentials is not None and checked.scheme == "https":
            return "the camera asks for a user name and password (HTTPS 401): check the ones in the URL"
        return _credentials_reason(checked, 401, "HTTP")
    reason = _answer_reason(answer.status, answer.reason, "HTTP")
    if reason is not None:
        return reason
    content_type = (answer.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if start.lstrip().startswith(b"#EXTM3U") or "mpegurl" in content_type:
        return "the camera serves an HLS playlist: playlists are refused (they name further URLs FFmpeg would fetch)"
    if b"<MPD" in start or content_type == "application/dash+xml":
        return "the camera serves a DASH manifest: playlists are refused (they name further URLs FFmpeg would fetch)"
    if content_type.startswith(("video/", "image/", "multipart/x-mixed-replace")):
        return f"the camera's stream ({content_type}) could not be decoded"
    shown = content_type or "no content type"
    return f"the camera's answer ({shown}) is not a video stream in a format allowed for HTTP cameras"
