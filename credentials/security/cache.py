"""The shared cache behind every counter (rate limits, throttling): Redis, kept usable when
Redis is not.

Any error from Redis is an outage: unreachable, slower than the socket timeout, or answering
with an error (OOM, READONLY, any `RedisError`). During one, the process counts in its own
memory instead, and every RETRY_SECONDS one request tries a write to Redis; when that succeeds,
the counters go back to Redis. A Redis outage therefore neither opens the gates (every limit
still holds, per process: at most the limit times the number of processes) nor takes the
console down (no request fails, or waits on Redis beyond the short socket timeouts).

Django makes one cache object per thread, so what an outage needs to be per process lives
here, at module level: one memory store and one outage clock per Redis server, shared by every
thread and every cache alias pointing at that server. See docs/DECISIONS.md.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
# Whatever redis-py raises, and the socket errors it may let through.
_OUTAGE = (RedisError, OSError)
_PROBE_KEY = "swrconsole:redis-probe"


class Outage:
    """One Redis server as this process sees it: answering, or out since when and tried again
    when. Shared by every thread (time.monotonic is its clock; tests move it)."""

    def __init__(self, location: str) -> None:
        self._lock = threading.Lock()
        # The memory store's name: Django's memory caches of one name share one store.
        self.store = "redis-fallback-" + hashlib.sha256(location.encode()).hexdigest()[:16]
        self.since: float | None = None  # None while Redis answers
        self._retry_at = 0.0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def turn_to_probe(self) -> bool:
        """During an outage: whether the caller is the one to try Redis now (one caller per
        RETRY_SECONDS; the others keep counting in memory, not waiting on Redis)."""
        with self._lock:
            now = time.monotonic()
            if self.since is None or now < self._retry_at:
                return False
            self._retry_at = now + RETRY_SECONDS
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            if self.since is None:
                self.since = now
                # The error's class only: its text may name the server.
                logger.warning(
                    "Redis failed (%s): counting in this process's memory, trying Redis "
                    "again every %g s",
                    type(error).__name__,
                    RETRY_SECONDS,
                )
            self._retry_at = now + RETRY_SECONDS

    def ended(self) -> None:
        with self._lock:
            if self.since is not None:
                logger.warning(
                    "Redis answers again after %.0f s: counting in Redis again",
                    time.monotonic() - self.since,
                )
            self.since = None


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_of(location: str) -> Outage:
    """This process's one Outage for the Redis server at `location`."""
    with _outages_lock:
        return _outages.setdefault(location, Outage(location))


def _forwarded(name: str) -> Callable[..., Any]:
    """The cache method `name`, going to Redis or, while it is out, to the memory stand-in."""

    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one `redis.Redis` per connection pool: Django builds a new
    one for every command, and redis-py's constructor costs more CPU than the command itself
    (~55 us against ~35 us for the token's MGET; docs/PERFORMANCE.md). The pool and its
    connections were already reused; a `redis.Redis` is safe to share between threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Django's Redis cache; the process's memory stands in while Redis fails."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        # Fail fast: a request must not wait long on a Redis that does not answer.
        options.setdefault("socket_connect_timeout", 1.0)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self.outage = outage_of(server)
        # Its own object (this alias's key prefix and version) on the process's one store.
        self._fallback = LocMemCache(
            self.outage.store,
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "KEY_FUNCTION": params.get("KEY_FUNCTION"),
                "OPTIONS": {"MAX_ENTRIES": 100_000},
            },
        )

    def validate_key(self, key: str) -> None:
        """Nothing to check: Django warns of keys memcached could not store (each character
        looked at, ~17 us a token request), and Redis stores any key; ours are digests."""

    @property
    def redis_up(self) -> bool:
        return not self.outage.ongoing

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.outage.ongoing and not self._probe():
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except _OUTAGE as error:
            self.outage.failed(error)
        return getattr(self._fallback, name)(*args, **kwargs)

    def _probe(self) -> bool:
        """Whether Redis takes a write again (reads alone prove nothing: an out-of-memory or
        read-only Redis still answers them). Only the caller whose turn it is tries."""
        if not self.outage.turn_to_probe():
            return False
        try:
            key = self.make_key(_PROBE_KEY)
            self._cache.get_client(key, write=True).set(key, b"1", ex=60)
        except _OUTAGE as error:
            self.outage.failed(error)
            return False
        self.outage.ended()
        return True

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
