def primes(int count):
    """The first `count` primes, by trial division in C ints."""
    cdef int n = 2, k, found = 0
    cdef list out = []
    while found < count:
        k = 0
        for p in out:
            if n % p == 0:
                k = 1
                break
        if k == 0:
            out.append(n)
            found += 1
        n += 1
    return out
