"""Chinese is the product's default language, English the second."""

import pytest
from django.test import override_settings
from django.urls import reverse

from jiancha import settings as product_settings


def test_product_defaults_to_simplified_chinese_in_shanghai():
    assert product_settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in product_settings.LANGUAGES] == ["zh-hans", "en"]
    assert product_settings.TIME_ZONE == "Asia/Shanghai"


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="zh-hans")
def test_login_page_is_chinese_by_default_and_english_on_request(client):
    chinese = client.get(reverse("login")).content.decode()
    assert 'lang="zh-hans"' in chinese
    assert "登录" in chinese
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english
