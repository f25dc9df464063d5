"""Token prices per model, from the data file shipped in the package.

Prices are USD per million tokens. A spec may override or add models with
``[prices."model"]``; cache prices default to the usual multiples of the input
price (1.25x to write the 5-minute cache, 0.1x to read it).
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

from tui.events import Usage
from tui.spec import Price

_DATED = re.compile(r"-(\d{8}|latest)$")


@lru_cache(maxsize=1)
def _table() -> tuple[str, dict[str, Price]]:
    raw = tomllib.loads(resources.files("tui.data").joinpath("prices.toml").read_text())
    return raw["checked"], {name: Price(**p) for name, p in raw["models"].items()}


def prices_checked() -> str:
    """The date the shipped price table was last checked."""
    return _table()[0]


def price_for(model: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price of ``model`` (spec overrides first), or None when unknown."""
    for table in (overrides or {}, _table()[1]):
        if model in table:
            return table[model]
        base = _DATED.sub("", model)
        if base in table:
            return table[base]
    return None


def cost_usd(usage: Usage, price: Price) -> float:
    """What ``usage`` costs at ``price``."""
    cache_write = price.cache_write if price.cache_write is not None else price.input * 1.25
    cache_read = price.cache_read if price.cache_read is not None else price.input * 0.1
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * cache_write
        + usage.cache_read_tokens * cache_read
    ) / 1_000_000
