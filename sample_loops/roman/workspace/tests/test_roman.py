import pytest

from roman import to_roman


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "I"), (3, "III"), (8, "VIII"), (30, "XXX"), (1000, "M")],
)
def test_additive_forms(n, expected):
    assert to_roman(n) == expected


def test_four_and_nine():
    assert (to_roman(4), to_roman(9)) == ("IV", "IX")


def test_forty_and_ninety():
    assert (to_roman(40), to_roman(90)) == ("XL", "XC")


def test_four_hundred_and_nine_hundred():
    assert (to_roman(400), to_roman(900)) == ("CD", "CM")


def test_mixed_year():
    assert to_roman(1994) == "MCMXCIV"


def test_largest():
    assert to_roman(3999) == "MMMCMXCIX"


@pytest.mark.parametrize("n", [0, 4000, -5])
def test_out_of_range(n):
    with pytest.raises(ValueError):
        to_roman(n)
