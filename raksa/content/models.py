"""Published information: news, videos, pages, recommended links, the search index, the site's look.

Nothing here is personal data: it is what the agency publishes. Staff edit it in Django's admin.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def in_language(thai: str, english: str) -> str:
    """The English text on the English site when there is one; Thai otherwise (Thai first)."""
    return english if get_language() == "en" and english else thai


class PublishedQuerySet(models.QuerySet):
    def published(self) -> "PublishedQuerySet":
        return self.filter(is_published=True).order_by("-published_at", "-id")


class Titled(models.Model):
    """A title in Thai and, once written, in English."""

    title_th = models.CharField(_("title in Thai"), max_length=250)
    title_en = models.CharField(_("title in English"), max_length=250, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title_th

    @property
    def title(self) -> str:
        return in_language(self.title_th, self.title_en)


class Published(models.Model):
    """Shown from its publication, while it stays published; newest first."""

    published_at = models.DateTimeField(_("published at"))
    is_published = models.BooleanField(_("published"), default=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        abstract = True


class PictureFields(models.Model):
    """A picture as published: resized, its metadata stripped, with a thumbnail (see pictures.py)."""

    image = models.ImageField(
        _("picture"),
        upload_to="content/pictures/",
        width_field="width",
        height_field="height",
        help_text=_("JPEG, PNG or WebP. It is resized and its metadata (EXIF, GPS) removed on upload."),
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    thumbnail = models.ImageField(
        upload_to="content/thumbnails/", width_field="thumbnail_width", height_field="thumbnail_height", editable=False
    )
    thumbnail_width = models.PositiveIntegerField(editable=False, default=0)
    thumbnail_height = models.PositiveIntegerField(editable=False, default=0)
    alt_th = models.CharField(_("description in Thai (for people who cannot see it)"), max_length=250)
    alt_en = models.CharField(_("description in English"), max_length=250, blank=True)

    class Meta:
        abstract = True

    @property
    def alt(self) -> str:
        return in_language(self.alt_th, self.alt_en)


class NewsItem(Titled, Published):
    summary_th = models.TextField(_("summary in Thai"), max_length=600)
    summary_en = models.TextField(_("summary in English"), max_length=600, blank=True)
    body_th = models.TextField(_("text in Thai"))
    body_en = models.TextField(_("text in English"), blank=True)

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["is_published", "-published_at"], name="content_news_published")]

    def get_absolute_url(self) -> str:
        return reverse("content:news_detail", kwargs={"pk": self.pk})

    @property
    def summary(self) -> str:
        return in_language(self.summary_th, self.summary_en)

    @property
    def body(self) -> str:
        return in_language(self.body_th, self.body_en)


class NewsPicture(PictureFields):
    news = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="pictures")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("news picture")
        verbose_name_plural = _("news pictures")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_th


class Video(Titled, Published, PictureFields):
    """A video served from this site, or an external player that loads only after a click."""

    description_th = models.TextField(_("description in Thai"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    file = models.FileField(
        _("video file"), upload_to="content/videos/", blank=True, help_text=_("MP4 or WebM, served from this site.")
    )
    embed_url = models.URLField(
        _("external player address"),
        blank=True,
        help_text=_("An https embed address; the player loads only after the visitor asks for it."),
    )

    class Meta:
        verbose_name = _("video")
        verbose_name_plural = _("videos")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(embed_url="")) | (~Q(file="") & Q(embed_url="")),
                name="content_video_one_source",
                violation_error_message=_("Give either a video file or an external player address, not both."),
            )
        ]

    def get_absolute_url(self) -> str:
        return reverse("content:video_detail", kwargs={"pk": self.pk})

    @property
    def description(self) -> str:
        return in_language(self.description_th, self.description_en)


class Page(Titled):
    """A page of text: the website policy, the website security policy, about the agency."""

    WEBSITE_POLICY = "website-policy"
    SECURITY_POLICY = "security-policy"
    ABOUT = "about"

    slug = models.SlugField(_("address"), unique=True, help_text=_("website-policy, security-policy, about, …"))
    body_th = models.TextField(_("text in Thai"), help_text=_("Plain text; a blank line starts a new paragraph."))
    body_en = models.TextField(_("text in English"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["slug"]

    def get_absolute_url(self) -> str:
        name, kwargs = self.route
        return reverse(name, kwargs=kwargs)

    @property
    def body(self) -> str:
        return in_language(self.body_th, self.body_en)

    @property
    def route(self) -> tuple[str, dict]:
        """The URL name and arguments of its one address (the standard pages have their own)."""
        standard = {
            self.WEBSITE_POLICY: "content:website_policy",
            self.SECURITY_POLICY: "content:security_policy",
            self.ABOUT: "content:about",
        }
        if self.slug in standard:
            return standard[self.slug], {}
        return "content:page", {"slug": self.slug}


class RecommendedLink(Titled):
    url = models.URLField(_("address"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("recommended link")
        verbose_name_plural = _("recommended links")
        ordering = ["position", "id"]


class SearchDocument(Titled):
    """One searchable thing (a news item, a page, a service, an activity) and its segmented words.

    Thai is written without spaces between words, so the text is cut into words by PyThaiNLP and
    stored as " word word … " (lower case, space-delimited): a word is then found with a plain
    LIKE '% word %', which SQLite and PostgreSQL answer the same way.
    """

    source = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    summary_th = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    url_name = models.CharField(max_length=100)
    url_kwargs = models.JSONField(default=dict)
    words = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="content_search_one_per_thing")]
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"

    @property
    def summary(self) -> str:
        return in_language(self.summary_th, self.summary_en)


class SiteAppearance(models.Model):
    """The site's look in a period of national mourning: the black ribbon and a grey theme."""

    mourning_ribbon = models.BooleanField(_("show the black mourning ribbon"), default=False)
    grey_theme = models.BooleanField(_("show the whole site in grey"), default=False)

    class Meta:
        verbose_name = _("site appearance")
        verbose_name_plural = _("site appearance")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="content_one_site_appearance")]

    def __str__(self) -> str:
        return str(_("Site appearance"))

    @classmethod
    def current(cls) -> "SiteAppearance":
        return cls.objects.filter(id=1).first() or cls(id=1)
