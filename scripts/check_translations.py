"""Fail when the zh_Hans catalogue has an untranslated or fuzzy entry (STYLE.md §12).

Runs ``makemessages`` first so that every msgid in the code is in the catalogue.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "jiancha/locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> int:
    jiancha = Path(sys.executable).parent / "jiancha"
    subprocess.run(
        [str(jiancha), "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location", "-i", "node_modules/*", "-v", "0"],
        cwd=ROOT / "jiancha",
        check=True,
    )
    import polib_lite

    problems = polib_lite.problems(PO)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} zh_Hans entries are untranslated or fuzzy in {PO}")
        return 1
    print("zh_Hans catalogue complete")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
