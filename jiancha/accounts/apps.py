from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "jiancha.accounts"
    label = "accounts"
    verbose_name = _("organisation and accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from jiancha.accounts.lockout import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="jiancha.accounts.login_failed")
