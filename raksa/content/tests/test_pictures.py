import io

from django.core.exceptions import ValidationError
from django.test import TestCase
from PIL import Image

from raksa.accounts.models import User
from raksa.content import pictures
from raksa.content.models import NewsItem, NewsPicture
from raksa.content.tests.fixtures import GPS_IFD, ORIENTATION, TemporaryMedia, camera_jpeg
from raksa.testing import accounts as personas


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


class PreparePictureTests(TestCase):
    def test_it_strips_exif_and_gps_from_both_renditions(self) -> None:
        upload = camera_jpeg()
        self.assertIn(GPS_IFD, Image.open(upload).getexif())  # the upload carries a position
        upload.seek(0)
        prepared = pictures.prepare(upload)
        for rendition in (prepared.large, prepared.thumbnail):
            data = rendition.read()
            published = _open(data)
            self.assertEqual(dict(published.getexif()), {})
            self.assertNotIn(b"Exif", data)
            self.assertNotIn(b"PhoneMaker", data)
            self.assertNotIn("icc_profile", published.info)

    def test_it_resizes_and_keeps_the_shape(self) -> None:
        prepared = pictures.prepare(camera_jpeg((3000, 2000)))
        self.assertEqual(_open(prepared.large.read()).size, (1600, 1067))
        self.assertEqual(_open(prepared.thumbnail.read()).size, pictures.THUMBNAIL)

    def test_it_turns_the_picture_upright_before_dropping_the_orientation(self) -> None:
        # Orientation 6: the camera was held on its side; the picture must be shown turned 90°.
        prepared = pictures.prepare(camera_jpeg((1200, 800), orientation=6))
        upright = _open(prepared.large.read())
        self.assertEqual(upright.size, (800, 1200))
        self.assertNotIn(ORIENTATION, upright.getexif())
        top_pixel = upright.convert("RGB").getpixel((400, 50))
        assert isinstance(top_pixel, tuple)
        self.assertGreater(top_pixel[2], top_pixel[0], "the blue half is at the top once turned upright")

    def test_it_names_files_by_their_content(self) -> None:
        first, second = pictures.prepare(camera_jpeg()), pictures.prepare(camera_jpeg())
        self.assertEqual(first.large.name, second.large.name)
        self.assertRegex(first.large.name or "", r"^[0-9a-f]{24}\.jpg$")

    def test_it_refuses_what_is_not_a_picture(self) -> None:
        with self.assertRaises(ValidationError):
            pictures.prepare(io.BytesIO(b"%PDF-1.7 not a picture"))

    def test_it_flattens_transparency_onto_white(self) -> None:
        buffer = io.BytesIO()
        Image.new("RGBA", (640, 360), (0, 0, 0, 0)).save(buffer, "PNG")
        buffer.seek(0)
        large = _open(pictures.prepare(buffer).large.read())
        self.assertEqual(large.mode, "RGB")
        self.assertEqual(large.getpixel((10, 10)), (255, 255, 255))


class AdminUploadTests(TemporaryMedia, TestCase):
    databases = "__all__"

    def test_it_strips_gps_from_a_picture_uploaded_in_the_admin(self) -> None:
        editor = User.objects.create_superuser("editor", "editor-password")
        personas.sign_in_with_second_factor(self.client, editor)
        upload = camera_jpeg()
        upload.name = "phone.jpg"
        response = self.client.post(
            "/admin/content/newsitem/add/",
            {
                "title_th": "ข่าวจากหน้าผู้ดูแล",
                "summary_th": "สรุป",
                "body_th": "เนื้อหาข่าวพร้อมภาพถ่ายจากโทรศัพท์",
                "published_at_0": "2026-11-22",
                "published_at_1": "10:00:00",
                "is_published": "on",
                "pictures-TOTAL_FORMS": "1",
                "pictures-INITIAL_FORMS": "0",
                "pictures-MIN_NUM_FORMS": "0",
                "pictures-MAX_NUM_FORMS": "1000",
                "pictures-0-image": upload,
                "pictures-0-alt_th": "ภาพถ่าย",
                "pictures-0-position": "0",
            },
        )
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])
        picture = NewsPicture.objects.get(news=NewsItem.objects.get(title_th="ข่าวจากหน้าผู้ดูแล"))
        for stored in (picture.image, picture.thumbnail):
            with stored.open("rb") as file:
                data = file.read()
            self.assertNotIn(b"Exif", data)
            self.assertEqual(dict(_open(data).getexif()), {})
        self.assertEqual((picture.width, picture.height), (1600, 1067))
        self.assertEqual((picture.thumbnail_width, picture.thumbnail_height), pictures.THUMBNAIL)
        # The admin's save indexed the news for the site search.
        self.assertContains(self.client.get("/th/search/", {"q": "โทรศัพท์"}), "ข่าวจากหน้าผู้ดูแล")
