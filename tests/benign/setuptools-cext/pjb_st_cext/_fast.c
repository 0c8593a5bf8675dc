#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *fib(PyObject *self, PyObject *args)
{
    long n, a = 0, b = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "l", &n))
        return NULL;
    while (n-- > 0) {
        long t = a + b;
        a = b;
        b = t;
    }
    return PyLong_FromLong(a);
}

static PyMethodDef methods[] = {
    {"fib", fib, METH_VARARGS, "n-th Fibonacci number"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fast(void)
{
    return PyModule_Create(&module);
}
