"""Which registry categories a registration can hold: one encrypted column of `Registration` each.

A service asks only for categories from this list. The technical ones (collected on a visit, C2) and
the account's user ID are never typed into a form; biometric data cannot be typed at all.
"""

from raksa.registry import (
    ADDRESS,
    BIRTH_DATE,
    CRIMINAL_RECORD,
    DISABILITY,
    EMAIL,
    GENDER,
    HEALTH,
    INTERESTS,
    MESSAGE,
    NAME,
    NATIONAL_ID,
    PHONE,
    RELIGION,
    WORKPLACE,
    Category,
    Purpose,
    register_purpose,
)

COLLECTABLE: tuple[Category, ...] = (
    NAME,
    GENDER,
    BIRTH_DATE,
    NATIONAL_ID,
    ADDRESS,
    WORKPLACE,
    PHONE,
    EMAIL,
    INTERESTS,
    MESSAGE,
    HEALTH,
    DISABILITY,
    RELIGION,
    CRIMINAL_RECORD,
)
COLUMNS: tuple[str, ...] = tuple(category.code for category in COLLECTABLE)
# Contact data (U1): used to contact the person about the service, never for anything else.
CONTACT_COLUMNS = frozenset({NAME.code, ADDRESS.code, PHONE.code, EMAIL.code})
# Sensitive data (PDPA s26) is used for the service only on the explicit consent given on its form,
# so it has a purpose of its own: one the person can see and withdraw, apart from service delivery.
SENSITIVE_SERVICE_DELIVERY = register_purpose(
    Purpose(
        "service_delivery_sensitive",
        "ให้บริการที่ท่านขอรับ โดยใช้ข้อมูลอ่อนไหวตามความยินยอมโดยชัดแจ้งของท่าน",
        "delivering the service the person asked for, with sensitive data given on explicit consent",
        promises=("P3",),
    )
)
