"""Remember recent Logplex-Frame-Id values, so a batch Logplex retries is counted once."""

import threading
from collections import OrderedDict

# Frame ids are 32 hex digits; anything longer is cut, so a hostile header cannot grow memory.
MAX_ID_LENGTH = 128


class RecentIds:
    """A bounded least-recently-seen set."""

    def __init__(self, capacity: int):
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen_before(self, frame_id: str) -> bool:
        """True when ``frame_id`` was recorded already; records it otherwise."""
        key = frame_id[:MAX_ID_LENGTH]
        with self._lock:
            if key in self._ids:
                self._ids.move_to_end(key)
                return True
            self._ids[key] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return False
