#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *total(PyObject *self, PyObject *args)
{
    PyObject *seq, *item;
    long sum = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "O", &seq))
        return NULL;
    PyObject *it = PyObject_GetIter(seq);
    if (!it)
        return NULL;
    while ((item = PyIter_Next(it))) {
        sum += PyLong_AsLong(item);
        Py_DECREF(item);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(sum);
}

static PyMethodDef methods[] = {
    {"total", total, METH_VARARGS, "sum of integers"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sum", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__sum(void)
{
    return PyModule_Create(&module);
}
