"""The pages the lab's HTTP server serves: deterministic bytes, a bounded cache, and slices of a page
made without the rest of it (what a large response holds between two writes)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

# The page cache holds at most this many payload bytes (the least recently used page goes first): four
# pages at the largest payload, 4,096 at the default 16 KiB, so no --payload can exhaust the host's memory.
CACHE_BYTES = 64 << 20


def page_bytes(page: int, size: int) -> bytes:
    """The payload of page *page*: the same bytes on the server and in every reference check."""
    block = hashlib.sha256(page.to_bytes(8, "little")).digest()
    return (block * (size // len(block) + 1))[:size]


def page_slice(page: int, size: int, start: int, stop: int) -> bytes:
    """Bytes [start, stop) of ``page_bytes(page, size)``, made without the rest of the page."""
    block = hashlib.sha256(page.to_bytes(8, "little")).digest()
    offset, length = start % len(block), max(0, min(stop, size) - start)
    rotated = block[offset:] + block[:offset]
    return (rotated * (length // len(rotated) + 1))[:length]


class PageCache:
    """Pages by number, least recently used evicted first, at most *limit* payload bytes in all."""

    def __init__(self, payload: int, limit: int = CACHE_BYTES) -> None:
        self.payload = payload
        self.capacity = max(1, limit // payload)
        self._pages: OrderedDict[int, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, number: int) -> bytes:
        page = self._pages.get(number)
        if page is None:
            page = self._pages[number] = page_bytes(number, self.payload)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page

    def slice(self, number: int, start: int, stop: int) -> bytes:
        """A copy of bytes [start, stop) of the page: what a response holds between two writes, never
        the whole page, so a slow reader of an evicted page pins one slice, not the page."""
        page = self.get(number) if start == 0 else self._pages.get(number)
        if page is None:
            return page_slice(number, self.payload, start, stop)
        return page[start:stop]
