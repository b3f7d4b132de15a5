/* prefnb._scan: the validator's fast path in one pass, over bytes and over texts.
 *
 * counts(buffer) -> (quotes, escaped_quotes, newlines, whitespace_led, carriage_returns)
 *
 *   quotes            '"' bytes
 *   escaped_quotes    '"' bytes after an odd run of backslashes (inside a JSON string)
 *   newlines          '\n' bytes
 *   whitespace_led    1 when a byte after a '\n' (not the last byte) is <= 32: a blank line
 *                     or a line that starts with whitespace
 *   carriage_returns  '\r' bytes
 *
 * text_stats(preferred, rejected) -> (lengths_a, lengths_b, empty_a, empty_b, close)
 *
 *   two lists of str, one pair per index; lengths_* are native int64 arrays as bytes,
 *   empty_* the indexes of empty or whitespace-only texts (str.isspace), close the indexes
 *   that may be identical or near-identical: lengths within max(8, (len_a + len_b) // 20)
 *   and first characters that can match (see near_identical in validation/warnings.py)
 *
 * prefnb/validation/scan.py and PairStats.add_many compute the same with numpy and Python
 * when this module is not built; tests compare the two. The loop reads 16 bytes at a time with SSE2 (every x86-64
 * CPU has it): quote and CR matches are summed in byte lanes, and only the rare 16 bytes that
 * hold a backslash or a newline (or follow a backslash) are looked at one by one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct {
    int64_t quotes, escaped, newlines, carriage_returns;
    int64_t run; /* backslashes just before the current byte */
    int whitespace_led;
} Counts;

/* One byte's share of every count except quotes and carriage returns. */
static inline void
step(Counts *c, const unsigned char *p, Py_ssize_t i, Py_ssize_t n)
{
    unsigned char b = p[i];
    if (b == '\\') {
        c->run++;
        return;
    }
    if (b == '"' && (c->run & 1))
        c->escaped++;
    c->run = 0;
    if (b == '\n') {
        c->newlines++;
        if (i + 1 < n && p[i + 1] <= 32)
            c->whitespace_led = 1;
    }
}

static void
count_bytes(const unsigned char *p, Py_ssize_t n, Counts *c)
{
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  newline = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  zero = _mm_setzero_si128();
    __m128i quotes = zero, crs = zero; /* per-lane counts, summed before they can overflow */
    int lanes = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        /* a match is 0xFF, i.e. -1: subtracting it adds one */
        quotes = _mm_sub_epi8(quotes, _mm_cmpeq_epi8(v, quote));
        crs = _mm_sub_epi8(crs, _mm_cmpeq_epi8(v, cr));
        __m128i rare = _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, newline));
        if (_mm_movemask_epi8(rare) || c->run) {
            for (Py_ssize_t j = i; j < i + 16; j++)
                step(c, p, j, n);
        }
        if (++lanes == 255) {
            __m128i q = _mm_sad_epu8(quotes, zero), r = _mm_sad_epu8(crs, zero);
            c->quotes += _mm_cvtsi128_si32(q) + _mm_cvtsi128_si32(_mm_srli_si128(q, 8));
            c->carriage_returns += _mm_cvtsi128_si32(r) + _mm_cvtsi128_si32(_mm_srli_si128(r, 8));
            quotes = crs = zero;
            lanes = 0;
        }
    }
    __m128i q = _mm_sad_epu8(quotes, zero), r = _mm_sad_epu8(crs, zero);
    c->quotes += _mm_cvtsi128_si32(q) + _mm_cvtsi128_si32(_mm_srli_si128(q, 8));
    c->carriage_returns += _mm_cvtsi128_si32(r) + _mm_cvtsi128_si32(_mm_srli_si128(r, 8));
#endif
    for (; i < n; i++) {
        c->quotes += p[i] == '"';
        c->carriage_returns += p[i] == '\r';
        step(c, p, i, n);
    }
}

static PyObject *
counts(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Counts c = {0, 0, 0, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    count_bytes((const unsigned char *)view.buf, view.len, &c);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue(
        "(LLLNL)", (long long)c.quotes, (long long)c.escaped, (long long)c.newlines,
        PyBool_FromLong(c.whitespace_led), (long long)c.carriage_returns);
}

/* str.isspace(), except that "" counts too. */
static int
blank(PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

/* near_identical's first gate: two different ASCII letters or digits first (ignoring case)
 * stay different when the texts are normalized. */
static int
first_may_match(PyObject *x, PyObject *y)
{
    if (PyUnicode_GET_LENGTH(x) == 0 || PyUnicode_GET_LENGTH(y) == 0)
        return 1;
    Py_UCS4 a = PyUnicode_READ_CHAR(x, 0), b = PyUnicode_READ_CHAR(y, 0);
    if (a == b || a >= 128 || b >= 128 || !Py_ISALNUM(a) || !Py_ISALNUM(b))
        return 1;
    return Py_TOLOWER(a) == Py_TOLOWER(b);
}

static int
append_index(PyObject *list, Py_ssize_t i)
{
    PyObject *number = PyLong_FromSsize_t(i);
    if (number == NULL)
        return -1;
    int failed = PyList_Append(list, number);
    Py_DECREF(number);
    return failed;
}

static PyObject *
text_stats(PyObject *module, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "O!O!:text_stats", &PyList_Type, &a, &PyList_Type, &b))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(a);
    if (PyList_GET_SIZE(b) != n) {
        PyErr_SetString(PyExc_ValueError, "text_stats: the two lists differ in length");
        return NULL;
    }
    PyObject *lengths_a = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    PyObject *lengths_b = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    PyObject *empty_a = PyList_New(0), *empty_b = PyList_New(0), *close = PyList_New(0);
    if (!lengths_a || !lengths_b || !empty_a || !empty_b || !close)
        goto fail;
    int64_t *la = (int64_t *)PyBytes_AS_STRING(lengths_a);
    int64_t *lb = (int64_t *)PyBytes_AS_STRING(lengths_b);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyList_GET_ITEM(a, i), *y = PyList_GET_ITEM(b, i);
        if (!PyUnicode_Check(x) || !PyUnicode_Check(y)) {
            PyErr_SetString(PyExc_TypeError, "text_stats: every item must be a str");
            goto fail;
        }
        int64_t nx = PyUnicode_GET_LENGTH(x), ny = PyUnicode_GET_LENGTH(y);
        la[i] = nx;
        lb[i] = ny;
        if (blank(x) && append_index(empty_a, i) < 0)
            goto fail;
        if (blank(y) && append_index(empty_b, i) < 0)
            goto fail;
        int64_t gap = nx > ny ? nx - ny : ny - nx, limit = (nx + ny) / 20;
        if (gap <= (limit > 8 ? limit : 8) && first_may_match(x, y) && append_index(close, i) < 0)
            goto fail;
    }
    return Py_BuildValue("(NNNNN)", lengths_a, lengths_b, empty_a, empty_b, close);
fail:
    Py_XDECREF(lengths_a);
    Py_XDECREF(lengths_b);
    Py_XDECREF(empty_a);
    Py_XDECREF(empty_b);
    Py_XDECREF(close);
    return NULL;
}

static PyMethodDef methods[] = {
    {"counts", counts, METH_O,
     "counts(buffer) -> (quotes, escaped_quotes, newlines, whitespace_led, carriage_returns)"},
    {"text_stats", text_stats, METH_VARARGS,
     "text_stats(preferred, rejected) -> (lengths_a, lengths_b, empty_a, empty_b, close)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "prefnb._scan",
    "One pass over a block of JSON lines (see prefnb.validation.scan).", -1, methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    PyObject *m = PyModule_Create(&module);
#if defined(__SSE2__)
    const int simd = 1;
#else
    const int simd = 0; /* counts() then reads byte by byte: numpy is faster */
#endif
    if (m != NULL && PyModule_AddIntConstant(m, "SIMD", simd) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
