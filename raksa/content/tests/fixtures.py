"""What the content tests share: a throw-away media folder, pictures with camera metadata, news."""

import io
import shutil
import tempfile
from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.utils import timezone
from PIL import Image

from raksa.content import actions
from raksa.content.models import NewsItem

# Where a camera put the picture (a GPS block in EXIF): latitude 13.7563 N, longitude 100.5018 E (Bangkok).
GPS_IFD = 0x8825
CAMERA_GPS = {1: "N", 2: (13.0, 45.0, 22.68), 3: "E", 4: (100.0, 30.0, 6.48)}
ORIENTATION = 0x0112
MAKE = 0x010F


def camera_jpeg(size: tuple[int, int] = (3000, 2000), *, orientation: int = 1) -> io.BytesIO:
    """A JPEG as a phone would upload it: EXIF with the camera's make, GPS position and orientation."""
    picture = Image.new("RGB", size, (200, 30, 30))
    picture.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows the orientation
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update(CAMERA_GPS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif, quality=90)
    buffer.seek(0)
    buffer.name = "IMG_0001.jpg"
    return buffer


class TemporaryMedia:
    """A TestCase mixin: uploaded files go to a folder removed after the class."""

    media_dir: str
    _media_override: Any

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_dir = tempfile.mkdtemp(prefix="raksa-media-")
        cls._media_override = override_settings(MEDIA_ROOT=cls.media_dir)
        cls._media_override.enable()
        super().setUpClass()  # type: ignore[misc]

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()  # type: ignore[misc]
        cls._media_override.disable()
        shutil.rmtree(cls.media_dir, ignore_errors=True)


def publish_news(number: int = 0, *, with_picture: bool = True, **text: Any) -> NewsItem:
    fields: dict[str, Any] = {
        "title_th": f"ข่าวทดสอบลำดับที่ {number}",
        "title_en": f"Test news number {number}",
        "summary_th": "สรุปข่าวสำหรับการทดสอบ",
        "summary_en": "A summary for the test",
        "body_th": "เนื้อหาข่าวสำหรับการทดสอบ",
        "body_en": "The text of the test news",
        "published_at": timezone.now() - timedelta(hours=number),
    }
    fields.update(text)
    uploads = [actions.PictureUpload(camera_jpeg((800, 450)), alt_th="ภาพทดสอบ", alt_en="A test picture")]
    return actions.publish_news(**fields, uploads=uploads if with_picture else [])


def public_page_types(*, news_pk: int, video_pk: int) -> dict[str, str]:
    """One address of every public page type, without its language prefix."""
    return {
        "home": "/",
        "contact": "/contact/",
        "privacy policy": "/privacy/",
        "news archive": "/news/",
        "news item": f"/news/{news_pk}/",
        "videos": "/videos/",
        "video": f"/videos/{video_pk}/",
        "website policy": "/website-policy/",
        "security policy": "/security-policy/",
        "about": "/about/",
        "agency directory": "/agencies/",
        "recommended links": "/links/",
        "search": "/search/",
    }
