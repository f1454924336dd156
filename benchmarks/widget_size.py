"""How many bytes the chat widget costs a customer's page: widget.js + widget.css,
raw, minified and gzipped.

    .venv/bin/python benchmarks/widget_size.py [--json]

The minifier here is deliberately crude (comments and layout whitespace only, no
renaming), so the figure is an upper bound on what terser/cssnano would give.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "service" / "web"
FILES = ("widget.js", "widget.css")
BUDGET = 30 * 1024

# After one of these (or at the start), a "/" opens a regex literal, not a division.
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


def minify_js(source: str) -> str:
    """Drop comments and indentation; keep strings, regexes and line breaks (for ASI)."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in "'\"`":
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if source[j] == "\\" else 1
            out.append(source[i : j + 1])
            i = j + 1
        elif source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c == "/" and "".join(out).rstrip()[-1:] in _REGEX_BEFORE:
            j, in_class = i + 1, False
            while j < n and (in_class or source[j] != "/"):
                in_class = (in_class or source[j] == "[") and source[j] != "]"
                j += 2 if source[j] == "\\" else 1
            out.append(source[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line)


def minify_css(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    source = re.sub(r"\s+", " ", source)
    return re.sub(r"\s*([{};:,>])\s*", r"\1", source).replace(";}", "}").strip()


def measure() -> dict[str, int]:
    """Byte counts for the shipped widget; ``min_gzip`` is the figure the budget is for."""
    raw = {name: (WEB / name).read_text(encoding="utf-8") for name in FILES}
    minified = minify_js(raw["widget.js"]) + minify_css(raw["widget.css"])
    everything = "".join(raw.values())
    return {
        "raw": len(everything.encode()),
        "raw_gzip": len(gzip.compress(everything.encode(), 9)),
        "min": len(minified.encode()),
        "min_gzip": len(gzip.compress(minified.encode(), 9)),
        "budget": BUDGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    figures = measure()
    if parser.parse_args().json:
        print(json.dumps(figures))
        return
    print(f"widget.js + widget.css: {figures['raw']:,} bytes raw, {figures['raw_gzip']:,} gzipped")
    print(f"minified: {figures['min']:,} bytes, {figures['min_gzip']:,} gzipped")
    print(f"budget: {figures['budget']:,} bytes minified+gzipped")


if __name__ == "__main__":
    main()
