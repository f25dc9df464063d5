def to_roman(n: int) -> str:
    """Roman numeral for 1 <= n <= 3999."""
    raise NotImplementedError
