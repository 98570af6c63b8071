/* vrrpscope._core: the compiled per-packet work of the fast path.
 *
 * walk_pcap: classic pcap packet records, one after the other, from a buffer holding
 * part of the file; stops at an unfinished record (the caller carries it over) or at a
 * record claiming more captured bytes than possible (damage, reported by the caller).
 * walk_epb: a run of well-formed pcapng Enhanced Packet Blocks (the reader's fast-path
 * conditions); stops at the first block that is anything else (the reader steps it).
 *
 * gap_summary: the exact sums, maximum and histogram of a run of regular adverts' gaps
 * (what the engine adds to a speaker's statistics in one step).
 *
 * The walks read only inside the buffer they are given (every header read is bounded by the
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

static int in_buffer(PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != 8) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "gap_summary needs int64 arrays");
        return -1;
    }
    return 0;
}

#define MAX_BIN 4096
#define MAX_GAP (1LL << 52) /* squares of larger gaps could overflow: the caller sums */

PyDoc_STRVAR(gap_summary_doc,
"gap_summary(gaps, bins, ts) -> (count, sum, sum of squares, max, ts of the first max,\n"
"bins in order of first gap, their counts) or None (a gap or a bin out of range)\n\n"
"Exact sums of int64 gaps (the squares in 128 bits) and their histogram.");

static PyObject *gap_summary(PyObject *self, PyObject *args)
{
    PyObject *o_gaps, *o_bins, *o_ts;
    if (!PyArg_ParseTuple(args, "OOO", &o_gaps, &o_bins, &o_ts))
        return NULL;
    Py_buffer g, b, t;
    if (in_buffer(o_gaps, &g) < 0)
        return NULL;
    if (in_buffer(o_bins, &b) < 0) {
        PyBuffer_Release(&g);
        return NULL;
    }
    if (in_buffer(o_ts, &t) < 0) {
        PyBuffer_Release(&b);
        PyBuffer_Release(&g);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n = g.len / 8;
    if (b.len / 8 != n || t.len / 8 != n || n == 0) {
        PyErr_SetString(PyExc_ValueError, "gap_summary needs three arrays of one length > 0");
        goto done;
    }
    const int64_t *gaps = (const int64_t *)g.buf, *bins = (const int64_t *)b.buf;
    const int64_t *ts = (const int64_t *)t.buf;
    static Py_ssize_t counts[MAX_BIN]; /* (the GIL is held: one caller at a time) */
    int order[MAX_BIN];
    int distinct = 0, ok = 1;
    int64_t sum = 0, top = gaps[0];
    Py_ssize_t top_at = 0;
    unsigned __int128 sumsq = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t gap = gaps[i], bin = bins[i];
        if (gap < 0 || gap >= MAX_GAP || bin < 0 || bin >= MAX_BIN) {
            ok = 0;
            break;
        }
        sum += gap;
        sumsq += (unsigned __int128)gap * (unsigned __int128)gap;
        if (gap > top) {
            top = gap;
            top_at = i;
        }
        if (counts[bin]++ == 0)
            order[distinct++] = (int)bin;
    }
    if (!ok) {
        for (int k = 0; k < distinct; k++)
            counts[order[k]] = 0;
        result = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *firsts = PyList_New(distinct), *tally = PyList_New(distinct);
    if (firsts == NULL || tally == NULL) {
        Py_XDECREF(firsts);
        Py_XDECREF(tally);
        for (int k = 0; k < distinct; k++)
            counts[order[k]] = 0;
        goto done;
    }
    for (int k = 0; k < distinct; k++) {
        PyList_SET_ITEM(firsts, k, PyLong_FromLong(order[k]));
        PyList_SET_ITEM(tally, k, PyLong_FromSsize_t(counts[order[k]]));
        counts[order[k]] = 0;
    }
    PyObject *high = PyLong_FromUnsignedLongLong((unsigned long long)(sumsq >> 64));
    PyObject *low = PyLong_FromUnsignedLongLong((unsigned long long)sumsq);
    PyObject *shift = PyLong_FromLong(64);
    PyObject *shifted = (high && shift) ? PyNumber_Lshift(high, shift) : NULL;
    PyObject *squares = (shifted && low) ? PyNumber_Or(shifted, low) : NULL;
    Py_XDECREF(high);
    Py_XDECREF(low);
    Py_XDECREF(shift);
    Py_XDECREF(shifted);
    if (squares != NULL)
        result = Py_BuildValue("nLNLLNN", n, (long long)sum, squares, (long long)top,
                               (long long)ts[top_at], firsts, tally);
    else {
        Py_DECREF(firsts);
        Py_DECREF(tally);
    }
done:
    PyBuffer_Release(&t);
    PyBuffer_Release(&b);
    PyBuffer_Release(&g);
    return result;
}

static PyMethodDef methods[] = {
    {"walk_pcap", walk_pcap, METH_VARARGS, walk_pcap_doc},
    {"walk_epb", walk_epb, METH_VARARGS, walk_epb_doc},
    {"gap_summary", gap_summary, METH_VARARGS, gap_summary_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "vrrpscope._core", "The fast path's compiled record walk.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
