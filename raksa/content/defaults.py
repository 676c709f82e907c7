"""The standard pages' text until an administrator writes the agency's own (the footer links work from day one)."""

from raksa.content.models import Page

STANDARD_PAGES: dict[str, dict[str, str]] = {
    Page.WEBSITE_POLICY: {
        "title_th": "นโยบายเว็บไซต์",
        "title_en": "Website policy",
        "body_th": (
            "เว็บไซต์นี้เผยแพร่ข่าวสาร กิจกรรม และบริการอิเล็กทรอนิกส์ของหน่วยงาน "
            "ข้อมูลบนเว็บไซต์เป็นข้อมูลข่าวสารของราชการที่เผยแพร่ต่อสาธารณะ\n\n"
            "เว็บไซต์ไม่โหลดสคริปต์ แบบอักษร แผนที่ หรือเครื่องเล่นวิดีโอจากเว็บไซต์อื่น "
            "วิดีโอจากเว็บไซต์อื่นจะโหลดเมื่อท่านกดเล่นเท่านั้น\n\n"
            "ลิงก์ไปยังเว็บไซต์อื่นมีไว้เพื่อความสะดวก หน่วยงานไม่รับผิดชอบเนื้อหาของเว็บไซต์เหล่านั้น"
        ),
        "body_en": (
            "This website publishes the agency's news, activities and e-services. What it shows is public "
            "official information.\n\n"
            "The website loads no script, font, map or video player from any other site. A video hosted "
            "elsewhere loads only when you ask it to play.\n\n"
            "Links to other websites are there for convenience; the agency does not answer for their content."
        ),
    },
    Page.SECURITY_POLICY: {
        "title_th": "นโยบายการรักษาความมั่นคงปลอดภัยเว็บไซต์",
        "title_en": "Website security policy",
        "body_th": (
            "หน่วยงานใช้มาตรการรักษาความมั่นคงปลอดภัยที่เหมาะสมเพื่อป้องกันการเข้าถึง การแก้ไข "
            "หรือการเปิดเผยข้อมูลโดยไม่ได้รับอนุญาต ข้อมูลส่วนบุคคลถูกเข้ารหัส และการเข้าถึงทุกครั้งถูกบันทึก\n\n"
            "หลังจากลงทะเบียน ท่านจะได้รับชื่อผู้ใช้และรหัสผ่าน หน่วยงานทราบชื่อผู้ใช้ของท่านแต่ไม่ทราบรหัสผ่าน "
            "โปรดเก็บรหัสผ่านเป็นความลับ เปลี่ยนรหัสผ่านเป็นประจำ และออกจากระบบทุกครั้งเมื่อใช้งานเสร็จ\n\n"
            "คุกกี้ช่วยให้ใช้งานเว็บไซต์ได้สะดวก บางตัวอยู่เฉพาะระหว่างการใช้งาน บางตัวคงอยู่จนหมดอายุ "
            "ท่านเลือกได้ว่าจะยอมรับคุกกี้หรือไม่"
        ),
        "body_en": (
            "The agency uses appropriate security measures against unauthorised access, alteration and "
            "disclosure. Personal data is encrypted, and every access to it is recorded.\n\n"
            "After registering you get a user ID and a password. The agency knows your user ID but never your "
            "password. Keep your password secret, change it regularly, and log out when you have finished.\n\n"
            "Cookies make the site convenient: some last only for your visit, some persist until they expire. "
            "You choose whether to accept them."
        ),
    },
    Page.ABOUT: {
        "title_th": "เกี่ยวกับเรา",
        "title_en": "About us",
        "body_th": "หน่วยงานให้บริการอิเล็กทรอนิกส์แก่ประชาชน และรักษาข้อมูลส่วนบุคคลของท่านตามนโยบายที่ประกาศไว้",
        "body_en": "The agency serves citizens online and keeps their personal data as its published policy says.",
    },
}


def standard_page(slug: str) -> Page | None:
    """The default text of a standard page, unsaved; None for any other slug."""
    text = STANDARD_PAGES.get(slug)
    return Page(slug=slug, **text) if text else None
