class Node:
    def __init__(self, val, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def height(root):
    """Number of nodes on the longest root-to-leaf path (0 for an empty tree)."""
    if root is None:
        return 0
    return 1 + max(height(root.left), height(root.right))
