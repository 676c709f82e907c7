"""Pictures as the site publishes them: resized, re-encoded, and with no metadata left in them.

A camera's EXIF block can hold where the picture was taken (GPS), when, and with which device.
Decoding the pixels and encoding a new file drops all of it (EXIF, XMP, IPTC, comments); the
orientation it recorded is applied to the pixels first so the picture still stands upright.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

LARGE = (1600, 1600)
THUMBNAIL = (400, 225)  # 16:9, the gallery's shape
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Larger uploads are refused rather than decoded: a small file can expand to gigabytes of pixels.
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class PreparedPicture:
    large: ContentFile
    thumbnail: ContentFile


def prepare(upload: IO[bytes]) -> PreparedPicture:
    """The published renditions of an uploaded picture; ValidationError if it is not one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(upload)
            if opened.format not in ACCEPTED_FORMATS:
                raise ValidationError(_("Upload a JPEG, PNG or WebP picture."), code="format")
            if opened.width * opened.height > MAX_PIXELS:
                raise ValidationError(_("This picture is too large."), code="size")
            opened.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as error:
        raise ValidationError(_("Upload a JPEG, PNG or WebP picture."), code="format") from error
    picture = _flatten(ImageOps.exif_transpose(opened))
    large = picture.copy()
    large.thumbnail(LARGE, Image.Resampling.LANCZOS)
    thumbnail = ImageOps.fit(picture, THUMBNAIL, Image.Resampling.LANCZOS)
    return PreparedPicture(large=_jpeg(large, quality=82), thumbnail=_jpeg(thumbnail, quality=72))


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB pixels only: transparency is laid on white, palettes and CMYK converted."""
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGBA")
        background = Image.new("RGB", picture.size, (255, 255, 255))
        background.paste(picture, mask=picture.getchannel("A"))
        return background
    return picture.convert("RGB")


def _jpeg(picture: Image.Image, *, quality: int) -> ContentFile:
    buffer = io.BytesIO()
    # A fresh Image carries no EXIF, ICC or XMP unless given: none is passed here on purpose.
    picture.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    data = buffer.getvalue()
    # Named by content: the file never changes under its name, so it can be cached for ever.
    return ContentFile(data, name=f"{hashlib.sha256(data).hexdigest()[:24]}.jpg")
