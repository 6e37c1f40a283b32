"""Tables of the docs generated from the package's own vocabularies (no Sphinx needed here).

:mod:`idtrack_docs` turns these rows into tables at build time, and ``tests/test_docs.py``
checks them without building the docs, so the pages can never fall behind the code.
"""

from __future__ import annotations


def outcome_rows() -> list[tuple[str, str]]:
    """``(outcome, meaning)`` for every outcome of :data:`idtrack_sc.resolve.OUTCOMES`."""
    from idtrack_sc.resolve import OUTCOMES

    return [(outcome, meaning) for outcome, meaning in OUTCOMES.items()]


def reason_rows() -> list[tuple[str, str, str]]:
    """``(reason, outcomes, meaning)`` for every reason of :data:`idtrack_sc.resolve.REASONS`.

    ``outcomes`` is ``"?"`` for a reason not yet classified in this module.
    """
    from idtrack_sc.resolve import REASON_OUTCOMES, REASONS

    return [(reason, REASON_OUTCOMES.get(reason, "?"), meaning) for reason, meaning in REASONS.items()]


def parse_note_rows() -> list[tuple[str, str]]:
    """``(note, meaning)`` for every value of the ``parse`` column."""
    from idtrack_sc.resolve import PARSE_NOTES, REASONS

    out = []
    for note in PARSE_NOTES:
        if note == "as_is":
            meaning = "the query was looked up as given (trimmed, case-insensitive)"
        else:
            meaning = REASONS.get(note, "").replace("as unchanged, after ", "").strip() or note
        out.append((note, meaning))
    return out


def pair_status_rows() -> list[tuple[str, str]]:
    """``(status, meaning)`` for every value of ``var['{key_added}_pair']``."""
    from idtrack_sc.record import PAIR_STATUS

    return list(PAIR_STATUS.items())


def record_key_rows() -> list[tuple[str, str]]:
    """``(key, content)`` for every key of a harmonization record (``uns[key_added]``)."""
    from idtrack_sc.record import OPTIONAL_RECORD_KEYS, RECORD_KEYS

    return [
        (key, content + (" (only in some records)" if key in OPTIONAL_RECORD_KEYS else ""))
        for key, content in RECORD_KEYS.items()
    ]


def record_param_rows() -> list[tuple[str, str]]:
    """``(param, meaning)`` for every key of a record's ``params``."""
    from idtrack_sc.record import RECORD_PARAMS

    return list(RECORD_PARAMS.items())


def column_type(name: str, column: str) -> str:
    """Arrow type of one snapshot column, as pyarrow prints it (``string``, ``int32``, …)."""
    from idtrack_sc.snapshot import TABLES

    return str(TABLES[name].field(column).type)


def list_table(header: tuple[str, ...], rows: list[tuple[str, ...]], *, literal_first: bool = True) -> list[str]:
    """reStructuredText ``list-table`` lines for ``rows``."""
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: auto", ""]
    lines.append("   * - " + header[0])
    lines += [f"     - {h}" for h in header[1:]]
    for row in rows:
        first = f"``{row[0]}``" if literal_first else row[0]
        lines.append(f"   * - {first}")
        lines += [f"     - {_escape(cell)}" for cell in row[1:]]
    lines.append("")
    return lines


def _escape(text: str) -> str:
    # descriptions are plain text, where `code` is the one markup kept (as rST literals)
    paired = text.count("`") % 2 == 0
    parts = text.split("`") if paired else [text]
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # between backticks
            out.append(f"``{part}``")
            continue
        plain = part
        for char in ("\\", "*", "`", "|", "_"):
            plain = plain.replace(char, "\\" + char)
        out.append(plain)
    return "".join(out)
