from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from raksa.content import actions
from raksa.content.models import PictureFields, Video


class PictureForm(forms.ModelForm):
    """A picture upload, replaced before it is stored by its published renditions (resized, no EXIF/GPS)."""

    def clean_image(self) -> object:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            instance: PictureFields = self.instance
            actions.attach_picture(instance, image)
            return instance.image
        return image


class VideoForm(PictureForm):
    class Meta:
        model = Video
        fields = [  # noqa: RUF100
            "title_th",
            "description_th",
            "alt_th",
            "title_en",
            "description_en",
            "alt_en",
            "image",
            "file",
            "embed_url",
            "published_at",
            "is_published",
        ]

    def clean_embed_url(self) -> str:
        url = self.cleaned_data.get("embed_url", "")
        if url and not url.startswith("https://"):
            raise forms.ValidationError(_("The player's address must start with https://."))
        return url
