"""
Fixed-capacity FIFO queue stored in a list used as a ring.
When the buffer is full, put() overwrites the oldest element.
"""


class RingBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._data = [None] * capacity
        self._start = 0
        self._size = 0

    def put(self, item):
        end = (self._start + self._size) % len(self._data)
        self._data[end] = item
        if self._size == len(self._data):
            self._start = (self._start + 1) % len(self._data)
        else:
            self._size += 1

    def get(self):
        if not self._size:
            raise IndexError("get from empty buffer")
        item = self._data[self._start]
        self._start = (self._start + 1) % len(self._data)
        self._size -= 1
        return item
