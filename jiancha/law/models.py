"""Reference data: the current charge list (罪名) and the article numbers of the laws rules
cite (``data/laws.toml``).

Only numbers and names are stored; statute texts are not shipped.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Charge(models.Model):
    """A charge (罪名) on the current official list, with its Criminal Law articles."""

    seq = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("charge"), max_length=60, unique=True)
    articles = models.JSONField(_("articles"), default=list)
    chapter = models.CharField(_("chapter"), max_length=60, blank=True)
    section = models.CharField(_("section"), max_length=60, blank=True)
    current = models.BooleanField(_("in force"), default=True)
    replaced_by = models.CharField(_("replaced by"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["seq", "name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """An article number of a law of ``data/laws.toml``: ``law`` as rules cite it (刑法,
    刑事诉讼法, 民事诉讼法 …), ``number`` e.g. ``133-1``."""

    law = models.CharField(_("law"), max_length=80)
    number = models.CharField(_("article"), max_length=12)
    label = models.CharField(_("label"), max_length=30)
    chapter = models.CharField(_("chapter"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["law", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["law", "number"], name="article_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.law} {self.label}"
