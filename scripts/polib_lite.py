"""Just enough of a .po reader to find untranslated and fuzzy entries."""

from pathlib import Path


def _entries(path: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    current: dict[str, object] = {"flags": "", "msgid": "", "msgstr": [], "plural": False}
    field = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current["msgid"] or current["msgstr"]:
                entries.append(current)
            current = {"flags": "", "msgid": "", "msgstr": [], "plural": False}
            field = None
            continue
        if line.startswith("#,"):
            current["flags"] = str(current["flags"]) + line
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural"):
            current["plural"] = True
            field = "plural_id"
        elif line.startswith("msgid "):
            current["msgid"] = line[7:-1]
            field = "msgid"
        elif line.startswith("msgstr"):
            value = line.split(" ", 1)[1][1:-1]
            current["msgstr"].append(value)  # type: ignore[union-attr]
            field = "msgstr"
        elif line.startswith('"'):
            if field == "msgid":
                current["msgid"] = str(current["msgid"]) + line[1:-1]
            elif field == "msgstr":
                current["msgstr"][-1] += line[1:-1]  # type: ignore[index]
    return entries


def problems(path: Path) -> list[str]:
    found = []
    for entry in _entries(path):
        if entry["msgid"] == "":
            continue  # header
        if "fuzzy" in str(entry["flags"]):
            found.append(f"fuzzy: {entry['msgid']}")
        elif any(value == "" for value in entry["msgstr"]):  # type: ignore[union-attr]
            found.append(f"untranslated: {entry['msgid']}")
    return found
