"""HTTP byte ranges (RFC 9110 §14) for the site's own media, so a self-hosted video can seek and stream.

Browsers ask a video for `Range: bytes=START-` and play what arrives; Safari refuses to play a video
whose server ignores ranges. One range per request is what players send; a request for several
ranges gets the whole file (a server may always answer 200).
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date, parse_http_date_safe

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def serve(request: HttpRequest, path: Path, content_type: str) -> HttpResponseBase:
    """The file, or the part of it the request's Range asks for (206), or 416 for a range past its end."""
    stat = path.stat()
    response = _answer(request, path, content_type, size=stat.st_size, last_modified=int(stat.st_mtime))
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    return response


def _answer(request: HttpRequest, path: Path, content_type: str, *, size: int, last_modified: int) -> HttpResponseBase:
    try:
        wanted = _range(request, size, last_modified=last_modified)
    except UnsatisfiableRangeError:
        unsatisfiable = HttpResponse(status=416, content_type=content_type)
        unsatisfiable["Content-Range"] = f"bytes */{size}"
        return unsatisfiable
    if wanted is None:
        return FileResponse(path.open("rb"), content_type=content_type)
    first, last = wanted
    part = StreamingHttpResponse(_part(path.open("rb"), first, last), status=206, content_type=content_type)
    part["Content-Range"] = f"bytes {first}-{last}/{size}"
    part["Content-Length"] = str(last - first + 1)
    return part


class UnsatisfiableRangeError(Exception):
    pass


def _range(request: HttpRequest, size: int, *, last_modified: int) -> tuple[int, int] | None:
    """The (first, last) byte asked for, None for the whole file; past the end raises."""
    header = request.headers.get("Range", "").replace(" ", "")
    match = SINGLE_RANGE.match(header)
    if match is None or not any(match.groups()):
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and parse_http_date_safe(if_range) != last_modified:
        return None  # the file changed since the client's first part: send it whole
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None  # an invalid range is ignored (RFC 9110 §14.2)
    else:
        start, end = max(size - int(last), 0), size - 1  # the last N bytes
    if start >= size or size == 0:
        raise UnsatisfiableRangeError
    return start, end


def _part(file: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = file.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
