#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *popcount(PyObject *self, PyObject *args)
{
    unsigned long long v;
    (void)self;
    if (!PyArg_ParseTuple(args, "K", &v))
        return NULL;
    return PyLong_FromLong(__builtin_popcountll(v));
}

static PyMethodDef methods[] = {
    {"popcount", popcount, METH_VARARGS, "number of bits set"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
