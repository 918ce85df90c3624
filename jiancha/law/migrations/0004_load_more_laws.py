"""The article numbers of the laws added to the reference after 0002 (民事诉讼法,
行政诉讼法, 人民检察院刑事诉讼规则, the 两高 public-interest interpretation; data/laws.toml).
Only rows the table lacks are added, so a database created after the addition (where 0002
loaded only the first two laws) and an older one end the same."""

from django.db import migrations

ADDED_LAWS = (
    "人民检察院刑事诉讼规则",
    "民事诉讼法",
    "行政诉讼法",
    "最高人民法院 最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释",
)


def load(apps, schema_editor):
    from jiancha.law.seed import load_missing_articles

    load_missing_articles(apps.get_model("law", "Article"))


def unload(apps, schema_editor):
    apps.get_model("law", "Article").objects.filter(law__in=ADDED_LAWS).delete()


class Migration(migrations.Migration):
    dependencies = [("law", "0003_article_law_longer_names")]
    operations = [migrations.RunPython(load, unload)]
