from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef("int pjb_clamp(int value, int low, int high);")
ffibuilder.set_source(
    "pjb_cffi._clamp",
    """
    static int pjb_clamp(int value, int low, int high)
    {
        return value < low ? low : value > high ? high : value;
    }
    """,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
