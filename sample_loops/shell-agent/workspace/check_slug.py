"""The validator: one line per case (PASS or FAIL with its category), exit 1 on any failure."""

import sys

CASES = [
    ("words", "Hello World", "hello-world"),
    ("spaces", "  Leading and   trailing  ", "leading-and-trailing"),
    ("digits", "C3PO and R2D2", "c3po-and-r2d2"),
    ("punctuation", "Hello, World!", "hello-world"),
    ("punctuation", "Rock & Roll", "rock-roll"),
    ("accents", "Crème brûlée", "creme-brulee"),
]


def main() -> int:
    try:
        from slug import slugify
    except Exception as exc:  # a broken slug.py is a failure to report, not a crash
        print(f"FAIL import: slug.py cannot be imported: {exc!r}")
        return 1
    failed = 0
    for category, title, expected in CASES:
        try:
            got = slugify(title)
        except Exception as exc:
            got = f"raised {exc!r}"
        if got == expected:
            print(f"PASS {category}: {title!r} -> {expected!r}")
        else:
            failed += 1
            print(f"FAIL {category}: slugify({title!r}) gave {got!r}, expected {expected!r}")
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
