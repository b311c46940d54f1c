"""The Telegram front-end (aiogram 3): updates in as Events, Replies out as Bot API calls."""
