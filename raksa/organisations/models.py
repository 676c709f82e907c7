from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class ContactDetails(models.Model):
    """Public contact details of an organisation (not personal data: they are published)."""

    slug = models.SlugField(unique=True)
    name_th = models.CharField(_("name in Thai"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200)
    abbreviation_th = models.CharField(_("abbreviation in Thai"), max_length=20, blank=True)
    address_th = models.TextField(_("address in Thai"), blank=True)
    address_en = models.TextField(_("address in English"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    call_centre = models.CharField(_("call centre"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    dpo_email = models.EmailField(_("data protection officer's e-mail"), blank=True)
    dpo_phone = models.CharField(_("data protection officer's phone"), max_length=40, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_th

    @property
    def address(self) -> str:
        return self.address_en if get_language() == "en" and self.address_en else self.address_th


class Controller(ContactDetails):
    """The legal person answerable under the PDPA: a ministry, the Bangkok Metropolitan Administration."""

    is_platform_operator = models.BooleanField(
        _("operates the platform"),
        default=False,
        help_text=_("The controller of the shared citizen accounts; its contacts are the site's."),
    )

    class Meta:
        verbose_name = _("controller")
        verbose_name_plural = _("controllers")
        constraints = [
            models.UniqueConstraint(
                fields=["is_platform_operator"], condition=Q(is_platform_operator=True), name="one_platform_operator"
            )
        ]


class Agency(ContactDetails):
    """One office of a controller, with its own contacts, services and staff."""

    controller = models.ForeignKey(Controller, on_delete=models.PROTECT, related_name="agencies")

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["controller_id", "name_th"]


class StaffRole(models.TextChoices):
    OFFICER = "officer", _("Officer")
    CONTRACTOR = "contractor", _("Contractor (processor)")
    DPO = "dpo", _("Data protection officer")
    ADMINISTRATOR = "administrator", _("Administrator")
    AUDITOR = "auditor", _("Auditor")
    INVESTIGATOR = "investigator", _("Investigator")


class StaffMembership(models.Model):
    """A staff account's place in one agency. Staff see only their agency's data."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="staff")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=StaffRole.choices)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.agency_id}"
