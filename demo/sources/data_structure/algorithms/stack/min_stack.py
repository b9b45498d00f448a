"""
A stack that also reports its smallest element in constant time.
Each entry stores the value together with the minimum of the stack
below and including it.
"""


class MinStack:
    def __init__(self):
        self._items = []

    def push(self, value):
        low = value if not self._items else min(value, self._items[-1][1])
        self._items.append((value, low))

    def pop(self):
        return self._items.pop()[0]

    def top(self):
        return self._items[-1][0]

    def get_min(self):
        return self._items[-1][1]

    def __len__(self):
        return len(self._items)
