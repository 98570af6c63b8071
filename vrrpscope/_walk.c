/* vrrpscope._walk: the compiled record walk of the fast path.
 *
 * walk_pcap: classic pcap packet records, one after the other, from a buffer holding
 * part of the file; stops at an unfinished record (the caller carries it over) or at a
 * record claiming more captured bytes than possible (damage, reported by the caller).
 * walk_epb: a run of well-formed pcapng Enhanced Packet Blocks (the reader's fast-path
 * conditions); stops at the first block that is anything else (the reader steps it).
 *
 * Both read only inside the buffer they are given (every header read is bounded by the
 * buffer's size first), write at most the capacity of the output arrays, and release
 * the GIL while they walk. Output arrays are int64 buffers (numpy arrays) given by the
 * caller.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t u32(const unsigned char *p, int big)
{
    if (big)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static int out_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t *capacity)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->itemsize != 8) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "output arrays must hold int64");
        return -1;
    }
    Py_ssize_t cap = view->len / 8;
    if (cap < *capacity)
        *capacity = cap;
    return 0;
}

PyDoc_STRVAR(walk_pcap_doc,
"walk_pcap(data, start, size, hlen, big, limit, ns_per_unit, starts, caplen, orig, ts)\n"
"-> (records, stop, damaged)\n\n"
"Classic pcap records in data[start:size]: each record's header offset, captured and\n"
"original length and time in ns go to the int64 arrays (as far as they hold). stop is\n"
"where unread bytes begin; damaged: the record at stop claims more than limit bytes.");

static PyObject *walk_pcap(PyObject *self, PyObject *args)
{
    Py_buffer data;
    Py_ssize_t start, size, hlen, limit, ns_per_unit;
    int big;
    PyObject *o_starts, *o_caplen, *o_orig, *o_ts;
    if (!PyArg_ParseTuple(args, "y*nnnpnnOOOO", &data, &start, &size, &hlen, &big, &limit,
                          &ns_per_unit, &o_starts, &o_caplen, &o_orig, &o_ts))
        return NULL;
    Py_buffer b_starts = {0}, b_caplen = {0}, b_orig = {0}, b_ts = {0};
    Py_ssize_t capacity = PY_SSIZE_T_MAX;
    int got = 0;
    if (out_buffer(o_starts, &b_starts, &capacity) == 0) got = 1;
    if (got == 1 && out_buffer(o_caplen, &b_caplen, &capacity) == 0) got = 2;
    if (got == 2 && out_buffer(o_orig, &b_orig, &capacity) == 0) got = 3;
    if (got == 3 && out_buffer(o_ts, &b_ts, &capacity) == 0) got = 4;
    if (got < 4) {
        if (got > 2) PyBuffer_Release(&b_orig);
        if (got > 1) PyBuffer_Release(&b_caplen);
        if (got > 0) PyBuffer_Release(&b_starts);
        PyBuffer_Release(&data);
        return NULL;
    }
    if (size > data.len) size = data.len;
    if (start < 0) start = 0;
    if (hlen < 16) hlen = 16;
    const unsigned char *buf = (const unsigned char *)data.buf;
    int64_t *starts = (int64_t *)b_starts.buf, *caplen = (int64_t *)b_caplen.buf;
    int64_t *orig = (int64_t *)b_orig.buf, *ts = (int64_t *)b_ts.buf;
    Py_ssize_t pos = start, n = 0;
    int damaged = 0;
    Py_BEGIN_ALLOW_THREADS
    while (n < capacity && pos + hlen <= size) {
        const unsigned char *h = buf + pos;
        uint32_t incl = u32(h + 8, big);
        if ((Py_ssize_t)incl > limit) {
            damaged = 1;
            break;
        }
        Py_ssize_t after = pos + hlen + (Py_ssize_t)incl;
        if (after > size)
            break;
        starts[n] = pos;
        caplen[n] = incl;
        orig[n] = u32(h + 12, big);
        ts[n] = (int64_t)u32(h, big) * 1000000000LL + (int64_t)u32(h + 4, big) * ns_per_unit;
        n++;
        pos = after;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b_ts);
    PyBuffer_Release(&b_orig);
    PyBuffer_Release(&b_caplen);
    PyBuffer_Release(&b_starts);
    PyBuffer_Release(&data);
    return Py_BuildValue("nnO", n, pos, damaged ? Py_True : Py_False);
}

PyDoc_STRVAR(walk_epb_doc,
"walk_epb(data, start, end, big, interfaces, at, caplen, orig, index, high, low)\n"
"-> (blocks, stop)\n\n"
"Well-formed pcapng EPBs from data[start:end] one after the other (type 6, length a\n"
"multiple of 4 of at least 32 that fits, captured length inside the block, an interface\n"
"index below interfaces, trailer equal to the length): each block's offset, captured\n"
"and original length, interface and timestamp words go to the int64 arrays. stop is\n"
"the offset of the first block that is not one of those.");

static PyObject *walk_epb(PyObject *self, PyObject *args)
{
    Py_buffer data;
    Py_ssize_t start, end, interfaces;
    int big;
    PyObject *o[6];
    if (!PyArg_ParseTuple(args, "y*nnpnOOOOOO", &data, &start, &end, &big, &interfaces, &o[0],
                          &o[1], &o[2], &o[3], &o[4], &o[5]))
        return NULL;
    Py_buffer b[6];
    Py_ssize_t capacity = PY_SSIZE_T_MAX;
    int got = 0;
    while (got < 6 && out_buffer(o[got], &b[got], &capacity) == 0)
        got++;
    if (got < 6) {
        while (got-- > 0)
            PyBuffer_Release(&b[got]);
        PyBuffer_Release(&data);
        return NULL;
    }
    if (end > data.len) end = data.len;
    if (start < 0) start = 0;
    const unsigned char *buf = (const unsigned char *)data.buf;
    int64_t *at = (int64_t *)b[0].buf, *caplen = (int64_t *)b[1].buf;
    int64_t *orig = (int64_t *)b[2].buf, *index = (int64_t *)b[3].buf;
    int64_t *high = (int64_t *)b[4].buf, *low = (int64_t *)b[5].buf;
    Py_ssize_t pos = start, n = 0;
    Py_BEGIN_ALLOW_THREADS
    while (n < capacity && pos + 32 <= end) {
        const unsigned char *h = buf + pos;
        if (u32(h, big) != 6)
            break;
        uint32_t length = u32(h + 4, big);
        uint32_t iface = u32(h + 8, big);
        uint32_t incl = u32(h + 20, big);
        if ((length & 3) || length < 32 || (Py_ssize_t)length > end - pos)
            break;
        if (incl > length - 32 || (Py_ssize_t)iface >= interfaces)
            break;
        if (u32(h + length - 4, big) != length)
            break;
        at[n] = pos;
        caplen[n] = incl;
        orig[n] = u32(h + 24, big);
        index[n] = iface;
        high[n] = u32(h + 12, big);
        low[n] = u32(h + 16, big);
        n++;
        pos += length;
    }
    Py_END_ALLOW_THREADS
    for (int i = 5; i >= 0; i--)
        PyBuffer_Release(&b[i]);
    PyBuffer_Release(&data);
    return Py_BuildValue("nn", n, pos);
}

static PyMethodDef methods[] = {
    {"walk_pcap", walk_pcap, METH_VARARGS, walk_pcap_doc},
    {"walk_epb", walk_epb, METH_VARARGS, walk_epb_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "vrrpscope._walk", "The fast path's compiled record walk.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
