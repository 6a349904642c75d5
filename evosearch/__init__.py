"""evosearch: search your own notes and chats by meaning and by time."""

__version__ = "0.1.0"
