"""Code 128 (code set B) barcodes as inline SVG, for slips: request numbers a desk scanner
reads back. Code set B covers printable ASCII, all a request number needs; no dependency.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Bar and space widths (in modules) of symbol values 0–106, bar first. 103–105 are the
# start codes A, B, C; 106 is the stop pattern (with its final bar).
PATTERNS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
).split()
START_B = 104
STOP = 106
QUIET_ZONE = 10  # modules of white either side, so scanners find the edges


def encode_b(text: str) -> list[int]:
    """Symbol values for `text`: start B, the characters, the checksum, stop."""
    values = []
    for ch in text:
        code = ord(ch)
        if not 32 <= code <= 126:
            raise ValueError(f"Code 128-B cannot encode {ch!r}")
        values.append(code - 32)
    checksum = (START_B + sum(i * v for i, v in enumerate(values, start=1))) % 103
    return [START_B, *values, checksum, STOP]


def widths(text: str) -> str:
    """The element widths, alternating bar and space, starting with a bar."""
    return "".join(PATTERNS[v] for v in encode_b(text))


def decode_widths(elements: str) -> str:
    """Read widths back (for tests and for a sanity check): the text, checksum verified."""
    index = {p: v for v, p in enumerate(PATTERNS)}
    if not elements.endswith(PATTERNS[STOP]):
        raise ValueError("no stop pattern")
    body = elements[: -len(PATTERNS[STOP])]
    values = [index[body[i:i + 6]] for i in range(0, len(body), 6)]
    if not values or values[0] != START_B:
        raise ValueError("not code set B")
    *data, checksum = values[1:]
    if (START_B + sum(i * v for i, v in enumerate(data, start=1))) % 103 != checksum:
        raise ValueError("bad checksum")
    return "".join(chr(v + 32) for v in data)


def code128_svg(text: str, *, module: float = 1.5, height: int = 50,
                show_text: bool = True) -> SafeString:
    """An inline SVG barcode; sizes in CSS pixels (1.5px modules print crisply at 300 dpi)."""
    x = QUIET_ZONE
    bars = []
    for i, width in enumerate(int(w) for w in widths(text)):
        if i % 2 == 0:
            bars.append(f'<rect x="{x * module:g}" y="0" width="{width * module:g}" '
                        f'height="{height}"/>')
        x += width
    total = (x + QUIET_ZONE) * module
    full_height = height + (16 if show_text else 0)
    label = (f'<text x="{total / 2:g}" y="{height + 13}" text-anchor="middle" '
             f'font-family="monospace" font-size="12">{escape(text)}</text>'
             if show_text else "")
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" '
        f'aria-label="{escape(text)}" width="{total:g}" height="{full_height}" '
        f'viewBox="0 0 {total:g} {full_height}"><rect width="100%" height="100%" '
        f'fill="#fff"/><g fill="#000">{"".join(bars)}</g>{label}</svg>')
