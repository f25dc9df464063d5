def page_count(total: int, per_page: int) -> int:
    """How many pages it takes to show `total` items, `per_page` to a page."""
    return total // per_page
