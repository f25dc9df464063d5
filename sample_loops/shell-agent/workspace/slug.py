"""Turn titles into URL slugs."""


def slugify(title: str) -> str:
    # TODO: lowercase, words joined by single hyphens, no punctuation, no accents.
    return title
