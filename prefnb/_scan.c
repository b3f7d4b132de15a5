/* prefnb._scan: one pass over a block of JSON lines for the validator's fast path.
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
 * prefnb/validation/scan.py computes the same numbers with numpy when this module is not
 * built; tests compare the two. The loop reads 16 bytes at a time with SSE2 (every x86-64
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

static PyMethodDef methods[] = {
    {"counts", counts, METH_O,
     "counts(buffer) -> (quotes, escaped_quotes, newlines, whitespace_led, carriage_returns)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "prefnb._scan",
    "One pass over a block of JSON lines (see prefnb.validation.scan).", -1, methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    return PyModule_Create(&module);
}
