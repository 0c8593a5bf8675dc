from ._primes import primes
