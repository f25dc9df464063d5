"""Parse human durations such as "1h30m" or "90s" into seconds."""


def parse_duration(text: str) -> int:
    """The number of seconds ``text`` stands for; ValueError if it is not a duration."""
    raise NotImplementedError
