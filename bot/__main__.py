"""``python -m bot``: start the shop with whatever is configured."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import ConfigError, load_settings


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiogram logs every handled update at INFO: a line per click is noise at a shop's volume.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    from bot.app import serve  # after the settings are known to be good

    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
