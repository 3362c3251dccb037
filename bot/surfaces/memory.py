"""Process-wide memory settings for the long-running entry points.

newsbot runs many threads that allocate: Chroma's Rust workers, torch's, the web server's. glibc
gives each thread that contends its own malloc arena (up to 8 per core) and memory freed in one
arena is not reused by another, so a server's resident memory creeps up. Capping the arenas at
two: peak RSS of ``newsbot serve`` over the 100k-chunk bench store after 50 questions, 1513 MB
without the cap, 1479 MB with it (one run each; see ``newsbot bench``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (call early, before threads start). False where not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):  # musl and others have no mallopt: nothing to cap
        logger.debug("mallopt not available; malloc arenas left as they are")
        return False
