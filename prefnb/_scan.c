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
 * when this module is not built; tests compare the two.
 *
 * counts() reads 16 bytes at a time with SSE2 (every x86-64 CPU has it): quote and CR matches
 * are summed in byte lanes; only the few quotes right after a backslash have their run of
 * backslashes counted, and only newlines are looked at one by one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct {
    int64_t quotes, escaped, newlines, carriage_returns;
    int whitespace_led;
} Counts;

/* The quote at p[i] is escaped when an odd run of backslashes stands right before it. */
static inline int
escaped_at(const unsigned char *p, Py_ssize_t i)
{
    Py_ssize_t k = i;
    while (k > 0 && p[k - 1] == '\\')
        k--;
    return (int)((i - k) & 1);
}

static void
count_bytes(const unsigned char *p, Py_ssize_t n, Counts *c)
{
    /* locals, not c->...: p is a char pointer, which may alias any memory, so counters
     * behind a pointer would be stored and reloaded on every step */
    int64_t quotes = 0, escaped = 0, newlines = 0, crs = 0;
    int led = 0;
    Py_ssize_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  newline = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  zero = _mm_setzero_si128();
    __m128i lane_quotes = zero, lane_crs = zero; /* summed before a lane can overflow */
    int lanes = 0;
    unsigned after_backslash = 0; /* 1 when the previous 16 bytes ended with a backslash */
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i is_quote = _mm_cmpeq_epi8(v, quote);
        __m128i is_backslash = _mm_cmpeq_epi8(v, backslash);
        __m128i is_newline = _mm_cmpeq_epi8(v, newline);
        /* a match is 0xFF, i.e. -1: subtracting it adds one */
        lane_quotes = _mm_sub_epi8(lane_quotes, is_quote);
        lane_crs = _mm_sub_epi8(lane_crs, _mm_cmpeq_epi8(v, cr));
        if (_mm_movemask_epi8(_mm_or_si128(is_backslash, is_newline)) | after_backslash) {
            unsigned mb = (unsigned)_mm_movemask_epi8(is_backslash);
            unsigned mn = (unsigned)_mm_movemask_epi8(is_newline);
            /* quotes right after a backslash (few): count each one's run of backslashes */
            unsigned candidates =
                (unsigned)_mm_movemask_epi8(is_quote) & ((mb << 1) | after_backslash);
            while (candidates) {
                escaped += escaped_at(p, i + __builtin_ctz(candidates));
                candidates &= candidates - 1;
            }
            after_backslash = (mb >> 15) & 1;
            while (mn) {
                Py_ssize_t at = i + __builtin_ctz(mn);
                newlines++;
                led |= at + 1 < n && p[at + 1] <= 32;
                mn &= mn - 1;
            }
        }
        if (++lanes == 255) {
            __m128i q = _mm_sad_epu8(lane_quotes, zero), r = _mm_sad_epu8(lane_crs, zero);
            quotes += _mm_cvtsi128_si32(q) + _mm_cvtsi128_si32(_mm_srli_si128(q, 8));
            crs += _mm_cvtsi128_si32(r) + _mm_cvtsi128_si32(_mm_srli_si128(r, 8));
            lane_quotes = lane_crs = zero;
            lanes = 0;
        }
    }
    __m128i q = _mm_sad_epu8(lane_quotes, zero), r = _mm_sad_epu8(lane_crs, zero);
    quotes += _mm_cvtsi128_si32(q) + _mm_cvtsi128_si32(_mm_srli_si128(q, 8));
    crs += _mm_cvtsi128_si32(r) + _mm_cvtsi128_si32(_mm_srli_si128(r, 8));
#endif
    for (; i < n; i++) {
        if (p[i] == '"') {
            quotes++;
            escaped += escaped_at(p, i);
        } else if (p[i] == '\r') {
            crs++;
        } else if (p[i] == '\n') {
            newlines++;
            led |= i + 1 < n && p[i + 1] <= 32;
        }
    }
    c->quotes = quotes;
    c->escaped = escaped;
    c->newlines = newlines;
    c->carriage_returns = crs;
    c->whitespace_led = led;
}

static PyObject *
counts(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Counts c = {0, 0, 0, 0, 0};
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
