"""Services and activities on the public site: in its search, its sitemap, its feeds and its home page.

The content app owns those (`raksa.content`); this module gives it the services' part through the
hooks it offers, so a new service is findable the moment it is declared.
"""

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from raksa.content.actions import index_document
from raksa.content.feeds import FEED_ITEMS, SiteFeed, atom_of
from raksa.content.sitemaps import SiteSitemap
from raksa.services.models import SEAT_STATUSES, Kind, Service

SEARCH_SOURCE = "services"
HOME_ACTIVITIES = 4


def index_service(*, service: Service) -> None:
    """Adds or refreshes a service in the site search (closed ones too: their page says so)."""
    index_document(
        source=SEARCH_SOURCE,
        key=str(service.pk),
        title_th=service.title_th,
        title_en=service.title_en,
        summary_th=service.description_th[:300],
        summary_en=service.description_en[:300],
        texts=[service.description_th, service.description_en, service.place_th, service.place_en],
        url_name="services:detail",
        url_kwargs={"slug": service.slug},
        published_at=service.created_at,
    )


def upcoming_activities() -> QuerySet[Service]:
    return (
        Service.objects.filter(kind=Kind.ACTIVITY, ends_at__gte=timezone.now())
        .select_related("agency")
        .order_by("starts_at", "id")
    )


def with_seats_taken(activities: QuerySet[Service]) -> QuerySet[Service]:
    return activities.annotate(taken=Count("registrations", filter=Q(registrations__status__in=SEAT_STATUSES)))


def home_section(request: HttpRequest) -> dict:
    return {"activities": list(with_seats_taken(upcoming_activities())[:HOME_ACTIVITIES])}


class ServicesSitemap(SiteSitemap):
    """The services' list, the calendar and every service's and activity's own page."""

    def items(self) -> list[str | Service]:
        fixed: list[str | Service] = ["services:list", "services:calendar", "services:calendar_list"]
        return fixed + list(Service.objects.only("slug", "created_at").order_by("created_at", "id"))

    def location(self, item: str | Service) -> str:
        if isinstance(item, str):
            return reverse(item)
        return reverse("services:detail", args=[item.slug])


class ActivitiesFeed(SiteFeed):
    """Upcoming activities, the soonest first (RSS 2.0; `ActivitiesAtomFeed` is its Atom twin)."""

    title_text = _("Activities")
    description_text = _("Upcoming activities of the agency, open for registration")
    list_url_name = "services:calendar_list"

    def items(self) -> list[Service]:
        return list(upcoming_activities()[:FEED_ITEMS])

    def item_title(self, item: Service) -> str:
        return item.title

    def item_description(self, item: Service) -> str:
        return item.description

    def item_pubdate(self, item: Service) -> datetime:
        return item.created_at

    def item_link(self, item: Service) -> str:
        return reverse("services:detail", args=[item.slug])


ActivitiesAtomFeed = atom_of(ActivitiesFeed)
