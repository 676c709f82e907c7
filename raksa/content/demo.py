"""Demo content: a few news items in Thai and English with pictures drawn by Pillow at load time."""

import io
from datetime import timedelta
from typing import Any

from django.utils import timezone
from PIL import Image, ImageDraw

from raksa.content import actions
from raksa.content.defaults import STANDARD_PAGES
from raksa.content.models import NewsItem, Page, Video

NEWS: list[dict[str, Any]] = [
    {
        "title_th": "กระทรวงวิทยาศาสตร์และเทคโนโลยีจัดงานสัปดาห์วิทยาศาสตร์แห่งชาติ",
        "title_en": "The Ministry holds National Science Week",
        "summary_th": "นิทรรศการและกิจกรรมวิทยาศาสตร์สำหรับเยาวชนและประชาชนทั่วไป เข้าชมฟรีตลอดสัปดาห์",
        "summary_en": "Science exhibitions and activities for young people and the public, free all week.",
        "body_th": "งานสัปดาห์วิทยาศาสตร์แห่งชาติเปิดให้เข้าชมฟรี มีการทดลองทางวิทยาศาสตร์ การแข่งขันตอบปัญหา "
        "และการบรรยายจากนักวิทยาศาสตร์\n\nผู้สนใจสามารถลงทะเบียนร่วมกิจกรรมได้ทางเว็บไซต์",
        "body_en": "National Science Week is free to visit, with science experiments, a quiz and talks by "
        "scientists.\n\nYou can register for the activities on this website.",
        "colours": ((29, 78, 137), (255, 191, 71)),
    },
    {
        "title_th": "สำนักงานเขตมีนบุรีเปิดให้บริการรับชำระภาษีที่ดินและสิ่งปลูกสร้างวันเสาร์",
        "title_en": "Minburi District Office takes land and building tax payments on Saturdays",
        "summary_th": "เพื่ออำนวยความสะดวกแก่ประชาชน เปิดให้บริการทุกวันเสาร์ เวลา 08.30-16.30 น.",
        "summary_en": "For the public's convenience, the counter opens every Saturday from 8:30 to 16:30.",
        "body_th": "สำนักงานเขตมีนบุรีเปิดให้บริการรับชำระภาษีที่ดินและสิ่งปลูกสร้างในวันเสาร์ ที่ฝ่ายการคลัง ชั้น 1",
        "body_en": "Minburi District Office takes land and building tax payments on Saturdays at the "
        "finance section, ground floor.",
        "colours": ((30, 107, 55), (238, 243, 249)),
    },
    {
        "title_th": "ประกาศผลการคัดเลือกทุนการศึกษาด้านเทคโนโลยีดิจิทัล",
        "title_en": "Digital technology scholarships: the results",
        "summary_th": "รายชื่อผู้ได้รับทุนการศึกษาประจำปี และกำหนดการปฐมนิเทศ",
        "summary_en": "This year's scholarship holders and the orientation schedule.",
        "body_th": "ผู้ได้รับทุนโปรดยืนยันสิทธิ์ภายในสิบสี่วัน และเข้าร่วมการปฐมนิเทศตามกำหนดการ",
        "body_en": "Scholarship holders please confirm within fourteen days and attend the orientation.",
        "colours": ((164, 38, 44), (255, 255, 255)),
    },
    {
        "title_th": "อบรมการคุ้มครองข้อมูลส่วนบุคคลสำหรับเจ้าหน้าที่",
        "title_en": "Personal data protection training for officers",
        "summary_th": "เจ้าหน้าที่ทุกคนผ่านการอบรมตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล",
        "summary_en": "Every officer has been trained under the Personal Data Protection Act.",
        "body_th": "การอบรมครอบคลุมการเข้าถึงข้อมูลเท่าที่จำเป็น การบันทึกการเข้าถึง และสิทธิของเจ้าของข้อมูล",
        "body_en": "The training covered need-to-know access, recorded access and the rights of data subjects.",
        "colours": ((18, 52, 87), (201, 211, 223)),
    },
]
LINKS = [
    ("ศูนย์บริการข้อมูลภาครัฐเพื่อประชาชน", "Government information for citizens", "https://www.gcc.go.th/"),
    ("สำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล", "Personal Data Protection Committee", "https://www.pdpc.or.th/"),
    ("สำนักงานพัฒนารัฐบาลดิจิทัล", "Digital Government Development Agency", "https://www.dga.or.th/"),
]


def draw_picture(colours: tuple[tuple[int, int, int], tuple[int, int, int]], seed: int) -> io.BytesIO:
    """A simple landscape in two colours: sky, sun and hills (no picture files from elsewhere)."""
    sky, accent = colours
    picture = Image.new("RGB", (1280, 720), sky)
    draw = ImageDraw.Draw(picture)
    for band in range(12):
        shade = tuple(min(255, channel + band * 8) for channel in sky)
        draw.rectangle((0, band * 30, 1280, band * 30 + 30), fill=shade)
    draw.ellipse((880 - seed * 90, 90, 1040 - seed * 90, 250), fill=accent)
    draw.polygon([(0, 720), (0, 470), (320, 360 + seed * 20), (700, 520), (1280, 400), (1280, 720)], fill=(20, 60, 40))
    draw.polygon([(0, 720), (0, 600), (500, 500), (900, 620), (1280, 560), (1280, 720)], fill=(35, 90, 55))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def load() -> None:
    now = timezone.now()
    for age, item in enumerate(NEWS):
        text = {key: value for key, value in item.items() if key != "colours"}
        if NewsItem.objects.filter(title_th=text["title_th"]).exists():
            continue
        picture = actions.PictureUpload(
            file=draw_picture(item["colours"], age),
            alt_th=f"ภาพประกอบข่าว: {text['title_th']}",
            alt_en=f"News picture: {text['title_en']}",
        )
        actions.publish_news(**text, published_at=now - timedelta(days=age * 3), uploads=[picture])
    for slug, page in STANDARD_PAGES.items():
        if not Page.objects.filter(slug=slug).exists():  # never over an administrator's own text
            actions.upsert_page(slug=slug, **page)
    for position, (title_th, title_en, url) in enumerate(LINKS):
        actions.upsert_link(url=url, title_th=title_th, title_en=title_en, position=position)
    if not Video.objects.exists():
        actions.publish_video(
            title_th="แนะนำบริการอิเล็กทรอนิกส์",
            title_en="Introducing our e-services",
            description_th="วิดีโอแนะนำการลงทะเบียนและการดูข้อมูลของท่าน",
            description_en="How to register and see the data we hold about you.",
            # An external player on a reserved example domain: the demo shows the click-to-load step.
            embed_url="https://video.example/embed/raksa-demo",
            published_at=now,
            poster=actions.PictureUpload(
                file=draw_picture(((74, 85, 99), (255, 191, 71)), 2),
                alt_th="ภาพปกวิดีโอแนะนำบริการ",
                alt_en="Cover of the e-services video",
            ),
        )
