#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *gcd(PyObject *self, PyObject *args)
{
    long a, b;
    (void)self;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    while (b != 0) {
        long t = a % b;
        a = b;
        b = t;
    }
    return PyLong_FromLong(a < 0 ? -a : a);
}

static PyMethodDef methods[] = {
    {"gcd", gcd, METH_VARARGS, "greatest common divisor"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mesonmod", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__mesonmod(void)
{
    return PyModule_Create(&module);
}
