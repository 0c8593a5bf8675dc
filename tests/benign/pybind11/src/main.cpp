#include <numeric>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

static long dot(const std::vector<long> &a, const std::vector<long> &b)
{
    if (a.size() != b.size())
        throw std::invalid_argument("vectors differ in length");
    return std::inner_product(a.begin(), a.end(), b.begin(), 0L);
}

PYBIND11_MODULE(pjb_pybind11, m)
{
    m.doc() = "a C++ module built with pybind11";
    m.def("dot", &dot, "dot product of two integer vectors");
    m.def("shout", [](const std::string &s) { return s + "!"; });
}
