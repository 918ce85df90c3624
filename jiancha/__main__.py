"""The ``jiancha`` console command: Django's manage.py with jiancha's settings."""

import os
import sys


def main() -> None:
    # First: the process starts again with jemalloc as malloc when the machine has it
    # (see jiancha.core.allocator; JIANCHA_MALLOC=system keeps glibc's).
    from jiancha.core.allocator import use_jemalloc

    use_jemalloc()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiancha.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
