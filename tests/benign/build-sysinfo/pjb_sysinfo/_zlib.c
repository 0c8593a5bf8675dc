#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <zlib.h>

static PyObject *version(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyUnicode_FromString(zlibVersion());
}

static PyObject *crc(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    uLong c;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    c = crc32(0L, buf.buf, (uInt)buf.len);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "zlib's version"},
    {"crc32", crc, METH_VARARGS, "CRC-32 of bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_zlib", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__zlib(void)
{
    return PyModule_Create(&module);
}
