from .min_stack import MinStack
