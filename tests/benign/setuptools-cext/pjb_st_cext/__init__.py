from ._fast import fib
