#!/usr/bin/env python3
"""Checks on screens the tests captured as text (tmux capture-pane -p, or the
scripted UI mode's dumps), measured in display columns (a CJK character is
two), as a terminal shows them.

  screen-check.py cut COLS FILE...
      Every line that reaches the last column must end in an ellipsis or a
      border, and text that reaches a box's right border must stop before it
      with a space or an ellipsis: nothing is cut without a sign. Prints the
      lines that are, with file:line, and exits 1 when there is one.

  screen-check.py columns FILE HEADER-TITLE... -- ROW-PATTERN
      The header line is the first line holding every title; for each title,
      every line matching ROW-PATTERN (a Python regex) has a cell starting at
      that title's display column (a space before it, text at it). Exits 1,
      saying which title and row, when one does not line up.
"""
import re
import sys
import unicodedata

ELLIPSIS = ("…", "...")
BORDERS = "│┐┘┤┃|+"


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in s)


def cells(line):
    """The display cells of a line: cells[col] is the character there (a
    wide character's second cell is "")."""
    out = []
    for c in line:
        out.append(c)
        if unicodedata.east_asian_width(c) in "WF":
            out.append("")
    return out


def cut(cols, files):
    bad = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                body = line.rstrip(" ")
                if not body:
                    continue
                if width(body) >= cols and not body.endswith(ELLIPSIS) and body[-1] not in BORDERS \
                        and body[-1] not in "─-=":
                    print(f"{path}:{n}: reaches column {cols} without an ellipsis: {body}")
                    bad += 1
                    continue
                # Text inside a box, against its right border.
                m = re.match(r"^(.*[^ │|])([│|])$", body)
                if m and ("│" in m.group(1) or m.group(1).startswith("|")) \
                        and not m.group(1).endswith(ELLIPSIS) and m.group(1)[-1] not in "─-+┤├":
                    print(f"{path}:{n}: runs into the box's border without an ellipsis: {body}")
                    bad += 1
    return 1 if bad else 0


def columns(path, titles, pattern):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    header = next((l for l in lines if all(t in l for t in titles)), None)
    if header is None:
        print(f"{path}: no line holds every title {titles}")
        return 1
    rows = [l for l in lines if re.search(pattern, l) and l is not header]
    if not rows:
        print(f"{path}: no row matches {pattern!r}")
        return 1
    bad = 0
    for t in titles:
        col = width(header[:header.index(t)])
        for r in rows:
            c = cells(r)
            before = c[col - 1] if 0 < col <= len(c) else " "
            at = c[col] if col < len(c) else " "
            if before not in (" ", "│", "|") or at in (" ", ""):
                print(f"{path}: column {t!r} starts at display column {col}, "
                      f"but this row has no cell there: {r}")
                bad += 1
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "cut":
        return cut(int(argv[2]), argv[3:])
    if len(argv) >= 5 and argv[1] == "columns" and "--" in argv:
        k = argv.index("--")
        return columns(argv[2], argv[3:k], argv[k + 1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
