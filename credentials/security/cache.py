"""The shared cache behind every counter (rate limits, throttling): Redis, kept usable when
Redis is not.

While Redis cannot be reached, each process counts in its own memory instead, and tries Redis
again after RETRY_SECONDS. A Redis outage therefore neither opens the gates (every limit still
holds, per process: at most the limit times the number of processes) nor takes the console
down (no request fails or waits on it beyond the short socket timeouts). See docs/DECISIONS.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
_OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)


def _forwarded(name: str) -> Callable[..., Any]:
    """The cache method `name`, going to Redis or, while it is down, to the memory stand-in."""

    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


class ResilientRedisCache(RedisCache):
    """Django's Redis cache; a per-process memory cache stands in while Redis is down."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        # Fail fast: a request must not wait long on a Redis that does not answer.
        options.setdefault("socket_connect_timeout", 1.0)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, params)
        self._fallback = LocMemCache(
            f"redis-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 100_000}},
        )
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def redis_up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.redis_up:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except _OUTAGE as exc:
                with self._lock:
                    if self.redis_up:
                        logger.warning(
                            "Redis unreachable (%s): counting in this process for %g s",
                            type(exc).__name__,
                            RETRY_SECONDS,
                        )
                    self._down_until = time.monotonic() + RETRY_SECONDS
        return getattr(self._fallback, name)(*args, **kwargs)

    add = _forwarded("add")
    get = _forwarded("get")
    set = _forwarded("set")
    touch = _forwarded("touch")
    delete = _forwarded("delete")
    get_many = _forwarded("get_many")
    has_key = _forwarded("has_key")
    incr = _forwarded("incr")
    set_many = _forwarded("set_many")
    delete_many = _forwarded("delete_many")

    def clear(self) -> Any:
        self._fallback.clear()
        return self._call("clear")
