#!/usr/bin/python3
"""ansi2png: a terminal screen captured by `tmux capture-pane -e -p -N`
(UTF-8 text with SGR escape sequences) drawn as a PNG that looks like the
terminal: a dark background, xterm's 16 and 256 colours, bold (brighter and
in the bold face), reverse video, box-drawing and block characters drawn as
lines and cells so that they join, and wide (CJK) characters over two
cells. Used by docs/screenshots.sh (`make screenshots`).

  ansi2png.py [--cols N] [--rows N] [--size PX] IN.ansi OUT.png

Needs Debian's python3-pil, fonts-dejavu-core and, for CJK text,
fonts-noto-cjk. Every line is drawn COLS cells wide (cells past the text get
the default background; by default COLS is the widest line's, which with
capture-pane's -N is the pane's width), ROWS lines (default: as captured).
"""
import argparse
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONO_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
CJK_INDEX = 8  # Noto Sans Mono CJK TC in the collection (fc-list : file index family)

BG = (0x1d, 0x1f, 0x21)  # the default background
FG = (0xd0, 0xd0, 0xd0)  # the default foreground
# The 16 colours: a dark terminal's palette (Tango's, as GNOME Terminal has
# it, with brighter green, yellow and red for text on the dark background).
PALETTE16 = [
    (0x2e, 0x34, 0x36), (0xe0, 0x3c, 0x3c), (0x6c, 0xbe, 0x2a), (0xd8, 0xb4, 0x1c),
    (0x34, 0x65, 0xa4), (0xa8, 0x70, 0xb0), (0x06, 0x98, 0x9a), (0xd3, 0xd7, 0xcf),
    (0x55, 0x57, 0x53), (0xef, 0x29, 0x29), (0x8a, 0xe2, 0x34), (0xfc, 0xe9, 0x4f),
    (0x72, 0x9f, 0xcf), (0xad, 0x7f, 0xa8), (0x34, 0xe2, 0xe2), (0xee, 0xee, 0xec),
]


def colour256(n):
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


class Attr:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None: default, int: palette index, tuple: RGB
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        a = Attr()
        for k in self.__slots__:
            setattr(a, k, getattr(self, k))
        return a


def sgr(attr, params):
    """Applies one SGR sequence's parameters (';' or ':' separated) to attr."""
    if params == "":
        params = "0"
    parts = [p for p in re.split("[;]", params)]
    i = 0
    while i < len(parts):
        p = parts[i]
        if ":" in p:  # 38:5:N or 38:2::R:G:B
            sub = [s for s in p.split(":")]
            if sub[0] in ("38", "48") and len(sub) >= 3:
                if sub[1] == "5":
                    val = int(sub[2] or 0)
                else:
                    rgb = [int(s or 0) for s in sub[-3:]]
                    val = tuple(rgb)
                if sub[0] == "38":
                    attr.fg = val
                else:
                    attr.bg = val
            elif sub[0] == "4":
                attr.underline = sub[1] != "0"
            i += 1
            continue
        n = int(p) if p.isdigit() else 0
        if n == 0:
            attr.reset()
        elif n == 1:
            attr.bold = True
        elif n == 2:
            attr.dim = True
        elif n == 3:
            attr.italic = True
        elif n == 4:
            attr.underline = True
        elif n == 7:
            attr.reverse = True
        elif n == 22:
            attr.bold = attr.dim = False
        elif n == 23:
            attr.italic = False
        elif n == 24:
            attr.underline = False
        elif n == 27:
            attr.reverse = False
        elif 30 <= n <= 37:
            attr.fg = n - 30
        elif n == 39:
            attr.fg = None
        elif 40 <= n <= 47:
            attr.bg = n - 40
        elif n == 49:
            attr.bg = None
        elif 90 <= n <= 97:
            attr.fg = n - 90 + 8
        elif 100 <= n <= 107:
            attr.bg = n - 100 + 8
        elif n in (38, 48) and i + 1 < len(parts):
            if parts[i + 1] == "5" and i + 2 < len(parts):
                val = int(parts[i + 2])
                i += 2
            elif parts[i + 1] == "2" and i + 4 < len(parts):
                val = (int(parts[i + 2]), int(parts[i + 3]), int(parts[i + 4]))
                i += 4
            else:
                val = None
            if n == 38:
                attr.fg = val
            else:
                attr.bg = val
        i += 1


def is_wide(ch):
    return unicodedata.east_asian_width(ch) in ("W", "F")


def parse(text, cols, rows):
    """The screen: rows lists of cols cells (ch, Attr); a wide character's
    second cell is (None, attr)."""
    attr = Attr()
    screen = []
    esc = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
    for line in text.split("\n")[:rows]:
        cells = []
        pos = 0
        while pos < len(line):
            m = esc.match(line, pos)
            if m:
                if m.group(2) == "m":
                    sgr(attr, m.group(1))
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch in "\r\x1b" or unicodedata.category(ch) in ("Cc", "Mn", "Me", "Cf"):
                continue
            a = attr.copy()
            cells.append((ch, a))
            if is_wide(ch):
                cells.append((None, a))
        if cols:
            cells = cells[:cols]
            while len(cells) < cols:
                cells.append((" ", Attr()))
        screen.append(cells)
    while cols and len(screen) < rows:
        screen.append([(" ", Attr()) for _ in range(cols)])
    return screen


def resolve(a):
    """(fg, bg) RGB of a cell's attributes."""
    fg = a.fg
    if isinstance(fg, int) and fg < 8 and a.bold:
        fg += 8  # bold brightens the 8 colours, as xterm does
    fgc = FG if fg is None else (fg if isinstance(fg, tuple) else colour256(fg))
    if fg is None and a.bold:
        fgc = (0xff, 0xff, 0xff)
    bgc = BG if a.bg is None else (a.bg if isinstance(a.bg, tuple) else colour256(a.bg))
    if a.reverse:
        fgc, bgc = bgc, fgc
    if a.dim:
        fgc = tuple((f + b) // 2 for f, b in zip(fgc, bgc))
    return fgc, bgc


WEIGHT = {"LIGHT": 1, "HEAVY": 2, "DOUBLE": 3, "SINGLE": 1}


def box_segments(ch):
    """For a box-drawing character: {direction: weight} of its arms
    (up/down/left/right; 1 light, 2 heavy, 3 double), or None."""
    o = ord(ch)
    if not (0x2500 <= o <= 0x257F):
        return None
    name = unicodedata.name(ch, "")
    if "DASH" in name or "DIAGONAL" in name:
        return None
    words = name.replace("BOX DRAWINGS ", "").split()
    arms = {}
    pending = []
    weight = None
    arc = "ARC" in words
    for w in words:
        if w in WEIGHT:
            weight = WEIGHT[w]
            for d in pending:
                arms[d] = weight
            pending = []
        elif w in ("UP", "DOWN", "LEFT", "RIGHT"):
            pending.append(w)
        elif w == "HORIZONTAL":
            pending += ["LEFT", "RIGHT"]
        elif w == "VERTICAL":
            pending += ["UP", "DOWN"]
    for d in pending:  # "LIGHT DOWN AND RIGHT": the weight came first
        arms[d] = weight or 1
    # "DOWN LIGHT AND RIGHT HEAVY" lists the weight after; "LIGHT LEFT" before
    if not arms:
        return None
    return arms, arc


def draw_box(draw, x, y, cw, ch, arms, fg):
    cx, cy = x + cw // 2, y + ch // 2
    lw = max(1, cw // 9)

    def seg(d, wgt):
        t = lw if wgt == 1 else lw * 2
        if wgt == 3:  # double: two thin lines
            for off in (-lw - lw // 2 - 1, lw + lw // 2):
                if d in ("LEFT", "RIGHT"):
                    x0, x1 = (x, cx + lw * 2) if d == "LEFT" else (cx - lw * 2, x + cw)
                    draw.rectangle([x0, cy + off, x1, cy + off + lw - 1], fill=fg)
                else:
                    y0, y1 = (y, cy + lw * 2) if d == "UP" else (cy - lw * 2, y + ch)
                    draw.rectangle([cx + off, y0, cx + off + lw - 1, y1], fill=fg)
            return
        h0 = t // 2
        if d == "LEFT":
            draw.rectangle([x, cy - h0, cx + (t - h0) - 1, cy + (t - h0) - 1], fill=fg)
        elif d == "RIGHT":
            draw.rectangle([cx - h0, cy - h0, x + cw - 1, cy + (t - h0) - 1], fill=fg)
        elif d == "UP":
            draw.rectangle([cx - h0, y, cx + (t - h0) - 1, cy + (t - h0) - 1], fill=fg)
        elif d == "DOWN":
            draw.rectangle([cx - h0, cy - h0, cx + (t - h0) - 1, y + ch - 1], fill=fg)

    for d, wgt in arms.items():
        seg(d, wgt)


def draw_block(draw, x, y, cw, ch, c, fg, bg):
    """Block elements (U+2580..U+259F) as filled parts of the cell; False
    when c is not one."""
    o = ord(c)
    if o == 0x2588:
        draw.rectangle([x, y, x + cw - 1, y + ch - 1], fill=fg)
    elif 0x2581 <= o <= 0x2587:  # lower one eighth .. seven eighths
        h = round(ch * (o - 0x2580) / 8)
        draw.rectangle([x, y + ch - h, x + cw - 1, y + ch - 1], fill=fg)
    elif o == 0x2580:
        draw.rectangle([x, y, x + cw - 1, y + ch // 2 - 1], fill=fg)
    elif 0x2589 <= o <= 0x258F:  # left seven eighths .. one eighth
        w = round(cw * (0x2590 - o) / 8)
        draw.rectangle([x, y, x + w - 1, y + ch - 1], fill=fg)
    elif o == 0x2590:
        draw.rectangle([x + cw // 2, y, x + cw - 1, y + ch - 1], fill=fg)
    elif o in (0x2591, 0x2592, 0x2593):  # shades
        k = {0x2591: 0.25, 0x2592: 0.5, 0x2593: 0.75}[o]
        mix = tuple(round(b + (f - b) * k) for f, b in zip(fg, bg))
        draw.rectangle([x, y, x + cw - 1, y + ch - 1], fill=mix)
    else:
        return False
    return True


def render(screen, size, out):
    mono = ImageFont.truetype(MONO, size)
    mono_b = ImageFont.truetype(MONO_BOLD, size)
    cw = round(mono.getlength("M"))
    asc, desc = mono.getmetrics()
    chh = asc + desc + 2
    # A CJK glyph is one em wide: nearly as wide as its two cells.
    csize = min(2 * cw - 2, chh - 3)
    try:
        cjk = ImageFont.truetype(CJK, csize, index=CJK_INDEX)
        cjk_b = ImageFont.truetype(CJK_BOLD, csize, index=CJK_INDEX)
    except OSError:
        cjk = cjk_b = None
    rows, cols = len(screen), len(screen[0])
    pad = cw
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * chh + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    # A glyph DejaVu lacks renders as its .notdef box: those go to the CJK font.
    notdef = bytes(mono.getmask("\ue000"))
    has = {}

    def in_mono(c):
        if c not in has:
            has[c] = bytes(mono.getmask(c)) != notdef
        return has[c]

    for r, cells in enumerate(screen):
        y = pad + r * chh
        for col, (c, a) in enumerate(cells):
            if c is None:
                continue
            x = pad + col * cw
            wide = col + 1 < cols and cells[col + 1][0] is None
            w = cw * (2 if wide else 1)
            fgc, bgc = resolve(a)
            draw.rectangle([x, y, x + w - 1, y + chh - 1], fill=bgc)
            if c == " ":
                pass
            elif box_segments(c):
                arms, _ = box_segments(c)
                draw_box(draw, x, y, cw, chh, arms, fgc)
            elif draw_block(draw, x, y, cw, chh, c, fgc, bgc):
                pass
            elif wide or not in_mono(c):
                f = (cjk_b if a.bold else cjk) or mono
                gw = f.getlength(c)
                if f is mono:
                    draw.text((x + (w - gw) / 2, y + 1), c, font=f, fill=fgc)
                else:  # the ideographic em box (0.88 em above the baseline, 0.12 below) centred
                    draw.text((x + (w - gw) / 2, y + chh / 2 + 0.38 * csize), c, font=f, fill=fgc,
                              anchor="ls")
            else:
                f = mono_b if a.bold else mono
                draw.text((x, y + 1), c, font=f, fill=fgc)
            if a.underline:
                draw.line([x, y + chh - 2, x + w - 1, y + chh - 2], fill=fgc)
    img = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cols", type=int, default=0, help="default: the widest line's cells")
    ap.add_argument("--rows", type=int, default=0, help="default: the lines captured")
    ap.add_argument("--size", type=int, default=16, help="font size in pixels")
    ap.add_argument("input")
    ap.add_argument("output")
    o = ap.parse_args()
    with open(o.input, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if text.endswith("\n"):
        text = text[:-1]
    rows = o.rows or len(text.split("\n"))
    cols = o.cols or max(len(line) for line in parse(text, 0, rows))
    render(parse(text, cols, rows), o.size, o.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
