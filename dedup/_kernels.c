/* The inner loops dedup runs over whole batches, compiled: MinHash signatures, the candidate
 * gate's sketch agreement, the merge of one LSH band, the word tokens of a key for the content
 * guard, and the mojibake pre-check. Each gives exactly what the Python or numpy code beside it
 * gives (signatures.MinHasher, Index.agreement, lsh.BandTable.add, keys.words and keys.figures,
 * fixes._SUSPECT); the tests compare them value for value.
 *
 * Why C and not a JIT: importing this module costs about a millisecond, where importing numba
 * and loading its cached machine code cost 0.45-0.55 s in every process that used it (and about
 * 150 MB of memory), so small runs signed with numpy and big ones paid the load. Built at install
 * time as an optional extension: without a compiler dedup runs on numpy alone, same values.
 *
 * Arrays arrive through the buffer protocol (numpy arrays, C-contiguous); every index is checked
 * before the loops run, so a wrong call raises instead of reading out of bounds. The loops run
 * without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* On x86-64 with GCC, the signature loop is also built for AVX2 and the CPU picks at load time
 * (the minimum over unsigned 32-bit lanes is one instruction there, several on the SSE2
 * baseline every x86-64 compiler may assume). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DEDUP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DEDUP_CLONES
#endif

#define FOLD UINT64_C(0x9E3779B97F4A7C15)

typedef struct {
    Py_buffer view;
    int held;
} Held;

static void release(Held *h) {
    if (h->held) {
        PyBuffer_Release(&h->view);
        h->held = 0;
    }
}

/* A C-contiguous buffer of items of ``itemsize`` bytes (writable when asked); its item count. */
static int take(PyObject *obj, Held *h, Py_ssize_t itemsize, int writable, const char *name, Py_ssize_t *count) {
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &h->view, flags) < 0) {
        return -1;
    }
    h->held = 1;
    if (h->view.itemsize != itemsize || h->view.len % itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes, got %zd", name, itemsize, h->view.itemsize);
        release(h);
        return -1;
    }
    *count = h->view.len / itemsize;
    return 0;
}

/* -- signatures ------------------------------------------------------------------------------ */

DEDUP_CLONES
static void sign(const uint32_t *cps, const int64_t *starts, const int64_t *lengths, Py_ssize_t keys,
                 const uint64_t *multipliers, Py_ssize_t ngram, const uint32_t *a, const uint32_t *b,
                 Py_ssize_t num_perm, uint32_t *mixed, uint32_t *out) {
    for (Py_ssize_t k = 0; k < keys; k++) {
        const uint32_t *at = cps + starts[k];
        const int64_t n = lengths[k];
        for (int64_t i = 0; i < n; i++) {
            /* the polynomial shingle hash and its fold (MinHasher._window_hashes, _fold) ... */
            uint64_t h = 0;
            for (Py_ssize_t j = 0; j < ngram; j++) {
                h += (uint64_t)at[i + j] * multipliers[j];
            }
            h ^= h >> 29;
            uint32_t x = (uint32_t)((h * FOLD) >> 32);
            /* ... then MurmurHash3's 32-bit finalizer (signatures._fmix32) */
            x ^= x >> 16;
            x *= UINT32_C(0x85EBCA6B);
            x ^= x >> 13;
            x *= UINT32_C(0xC2B2AE35);
            mixed[i] = x ^ (x >> 16);
        }
        uint32_t *row = out + k * num_perm;
        for (Py_ssize_t p = 0; p < num_perm; p++) {
            const uint32_t ap = a[p], bp = b[p];
            uint32_t low = UINT32_C(0xFFFFFFFF);
            for (int64_t i = 0; i < n; i++) {
                const uint32_t v = ap * mixed[i] + bp; /* a * h + b mod 2**32 */
                low = v < low ? v : low;
            }
            row[p] = low;
        }
    }
}

static PyObject *signatures(PyObject *self, PyObject *args) {
    PyObject *o[7];
    if (!PyArg_ParseTuple(args, "OOOOOOO:signatures", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6])) {
        return NULL;
    }
    Held cps = {0}, starts = {0}, lengths = {0}, mult = {0}, a = {0}, b = {0}, out = {0};
    Py_ssize_t n_cps, n_keys, n_lengths, ngram, num_perm, n_b, n_out;
    PyObject *result = NULL;
    uint32_t *mixed = NULL;
    if (take(o[0], &cps, 4, 0, "code points", &n_cps) < 0 || take(o[1], &starts, 8, 0, "starts", &n_keys) < 0 ||
        take(o[2], &lengths, 8, 0, "lengths", &n_lengths) < 0 || take(o[3], &mult, 8, 0, "multipliers", &ngram) < 0 ||
        take(o[4], &a, 4, 0, "a", &num_perm) < 0 || take(o[5], &b, 4, 0, "b", &n_b) < 0 ||
        take(o[6], &out, 4, 1, "out", &n_out) < 0) {
        goto done;
    }
    if (n_lengths != n_keys || n_b != num_perm || n_out != n_keys * num_perm || ngram < 1) {
        PyErr_SetString(PyExc_ValueError, "signatures: array sizes do not match");
        goto done;
    }
    const int64_t *s = starts.view.buf, *len = lengths.view.buf;
    int64_t longest = 0;
    for (Py_ssize_t k = 0; k < n_keys; k++) {
        /* every shingle of key k reads code points starts[k] .. starts[k] + lengths[k] + ngram - 2 */
        if (s[k] < 0 || len[k] < 0 || len[k] > (int64_t)n_cps || s[k] > (int64_t)n_cps - len[k] - (ngram - 1)) {
            PyErr_Format(PyExc_IndexError, "signatures: key %zd reaches past the code points", k);
            goto done;
        }
        longest = len[k] > longest ? len[k] : longest;
    }
    mixed = PyMem_RawMalloc((size_t)(longest > 0 ? longest : 1) * sizeof(uint32_t));
    if (mixed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    sign(cps.view.buf, s, len, n_keys, mult.view.buf, ngram, a.view.buf, b.view.buf, num_perm, mixed, out.view.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(mixed);
    release(&cps), release(&starts), release(&lengths), release(&mult), release(&a), release(&b), release(&out);
    return result;
}

/* -- sketch agreement ------------------------------------------------------------------------ */

static PyObject *agreement(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "OnOO:agreement", &o[0], &width, &o[1], &o[2])) {
        return NULL;
    }
    Held sketch = {0}, pairs = {0}, out = {0};
    Py_ssize_t n_sketch, n_pairs, n_out;
    PyObject *result = NULL;
    if (take(o[0], &sketch, 1, 0, "sketch", &n_sketch) < 0 || take(o[1], &pairs, 8, 0, "pairs", &n_pairs) < 0 ||
        take(o[2], &out, 8, 1, "out", &n_out) < 0) {
        goto done;
    }
    if (width < 1 || n_sketch % width != 0 || n_pairs != 2 * n_out) {
        PyErr_SetString(PyExc_ValueError, "agreement: array sizes do not match");
        goto done;
    }
    const int64_t rows = n_sketch / width;
    const int64_t *p = pairs.view.buf;
    for (Py_ssize_t k = 0; k < n_pairs; k++) {
        if (p[k] < 0 || p[k] >= rows) {
            PyErr_Format(PyExc_IndexError, "agreement: pair %zd names a row out of range", k / 2);
            goto done;
        }
    }
    const uint8_t *rows_at = sketch.view.buf;
    double *share = out.view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_out; k++) {
        const uint8_t *x = rows_at + p[2 * k] * width, *y = rows_at + p[2 * k + 1] * width;
        Py_ssize_t same = 0;
        for (Py_ssize_t i = 0; i < width; i++) {
            same += x[i] == y[i];
        }
        share[k] = (double)same / (double)width;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&sketch), release(&pairs), release(&out);
    return result;
}

/* -- one LSH band ---------------------------------------------------------------------------- */

/* lsh.BandTable.add for one band in one pass: merge the sorted new values after the equal old
 * ones, and pair each new member of a bucket with the bucket's first members and its
 * predecessor (lsh._bucket_pairs), as codes ``earlier * width + new``. Returns how many codes it
 * wrote, or -1 when ``codes`` is too small. */
static Py_ssize_t merge(const uint32_t *old_values, const int32_t *old_ids, Py_ssize_t n_old,
                        const uint32_t *new_values, const int32_t *new_ids, Py_ssize_t n_new,
                        Py_ssize_t first_members, int64_t width, uint32_t *values, int32_t *ids,
                        int64_t *codes, Py_ssize_t n_codes) {
    Py_ssize_t i = 0, p = 0, m = 0;
    for (Py_ssize_t j = 0; j < n_new; j++) {
        const uint32_t v = new_values[j];
        while (i < n_old && old_values[i] <= v) {
            values[p] = old_values[i];
            ids[p] = old_ids[i];
            p++, i++;
        }
        const int64_t new = new_ids[j];
        if (p > 0 && values[p - 1] == v) {
            Py_ssize_t lo = 0, hi = p - 1; /* the bucket's first position: buckets can be long */
            while (lo < hi) {
                const Py_ssize_t mid = (lo + hi) >> 1;
                if (values[mid] < v) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            const Py_ssize_t firsts = p - lo < first_members ? p - lo : first_members;
            if (m + firsts + 1 > n_codes) {
                return -1;
            }
            for (Py_ssize_t k = lo; k < lo + firsts; k++) {
                codes[m++] = (int64_t)ids[k] * width + new;
            }
            if (p - lo > first_members) {
                codes[m++] = (int64_t)ids[p - 1] * width + new;
            }
        }
        values[p] = v;
        ids[p] = new_ids[j];
        p++;
    }
    while (i < n_old) {
        values[p] = old_values[i];
        ids[p] = old_ids[i];
        p++, i++;
    }
    return m;
}

static PyObject *merge_band(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t first_members;
    long long width;
    if (!PyArg_ParseTuple(args, "OOOOnLOOO:merge_band", &o[0], &o[1], &o[2], &o[3], &first_members, &width,
                          &o[4], &o[5], &o[6])) {
        return NULL;
    }
    Held old_v = {0}, old_id = {0}, new_v = {0}, new_id = {0}, values = {0}, ids = {0}, codes = {0};
    Py_ssize_t n_old, n_old_ids, n_new, n_new_ids, n_values, n_ids, n_codes;
    PyObject *result = NULL;
    if (take(o[0], &old_v, 4, 0, "old values", &n_old) < 0 || take(o[1], &old_id, 4, 0, "old ids", &n_old_ids) < 0 ||
        take(o[2], &new_v, 4, 0, "new values", &n_new) < 0 || take(o[3], &new_id, 4, 0, "new ids", &n_new_ids) < 0 ||
        take(o[4], &values, 4, 1, "values", &n_values) < 0 || take(o[5], &ids, 4, 1, "ids", &n_ids) < 0 ||
        take(o[6], &codes, 8, 1, "codes", &n_codes) < 0) {
        goto done;
    }
    if (n_old_ids != n_old || n_new_ids != n_new || n_values != n_old + n_new || n_ids != n_values ||
        first_members < 0) {
        PyErr_SetString(PyExc_ValueError, "merge_band: array sizes do not match");
        goto done;
    }
    Py_ssize_t count;
    Py_BEGIN_ALLOW_THREADS
    count = merge(old_v.view.buf, old_id.view.buf, n_old, new_v.view.buf, new_id.view.buf, n_new, first_members,
                  (int64_t)width, values.view.buf, ids.view.buf, codes.view.buf, n_codes);
    Py_END_ALLOW_THREADS
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "merge_band: more pairs than room for them in codes");
        goto done;
    }
    result = PyLong_FromSsize_t(count);
done:
    release(&old_v), release(&old_id), release(&new_v), release(&new_id), release(&values), release(&ids),
        release(&codes);
    return result;
}

/* -- word tokens ----------------------------------------------------------------------------- */

/* The runs of ``\\w`` in a str, as the regex module finds them (keys.words): a character is part
 * of a word when it is alphanumeric (Py_UNICODE_ISALNUM: alphabetic, decimal, digit or numeric, as
 * str.isalnum) or "_"; everything else, lone surrogates included, separates words. */
static inline int is_word(Py_UCS4 ch) {
    if (ch < 128) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    }
    return Py_UNICODE_ISALNUM(ch);
}

/* The runs of \\w of ``text``; with ``only_figures``, only those holding a decimal digit (what
 * the regex's \\d matches: Py_UNICODE_ISDECIMAL), the figures the content guard compares. */
static PyObject *tokens(PyObject *text, int only_figures, const char *name) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "%s: expected str, got %.100s", name, Py_TYPE(text)->tp_name);
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const int ascii = PyUnicode_IS_ASCII(text);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && !is_word(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        const Py_ssize_t start = i;
        int digit = 0;
        Py_UCS4 ch;
        while (i < n && is_word(ch = PyUnicode_READ(kind, data, i))) {
            digit |= ch < 128 ? (ch >= '0' && ch <= '9') : Py_UNICODE_ISDECIMAL(ch);
            i++;
        }
        if (i > start && (digit || !only_figures)) {
            PyObject *word;
            if (ascii) { /* the common case: a plain copy, no search for the widest character */
                word = PyUnicode_New(i - start, 127);
                if (word != NULL) {
                    memcpy(PyUnicode_DATA(word), (const char *)data + start, (size_t)(i - start));
                }
            } else {
                word = PyUnicode_Substring(text, start, i);
            }
            if (word == NULL || PyList_Append(out, word) < 0) {
                Py_XDECREF(word);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(word);
        }
    }
    return out;
}

static PyObject *words(PyObject *self, PyObject *text) { return tokens(text, 0, "words"); }

static PyObject *figures(PyObject *self, PyObject *text) { return tokens(text, 1, "figures"); }

/* -- mojibake suspects ------------------------------------------------------------------------ */

/* A character that can follow a UTF-8 lead byte read as Latin-1 in mojibake: a continuation byte
 * read as Latin-1 (U+0080-U+00BF) or as cp1252 (the characters cp1252 puts at 0x80-0x9F). */
static inline int continuation_as_text(Py_UCS4 ch) {
    if (ch >= 0x80 && ch <= 0xBF) {
        return 1;
    }
    switch (ch) {
    case 0x152: case 0x153: case 0x160: case 0x161: case 0x178: case 0x17D: case 0x17E: case 0x192:
    case 0x2C6: case 0x2DC: case 0x2013: case 0x2014: case 0x2018: case 0x2019: case 0x201A:
    case 0x201B: case 0x201C: case 0x201D: case 0x201E: case 0x2020: case 0x2021: case 0x2022:
    case 0x2026: case 0x2030: case 0x2039: case 0x203A: case 0x20AC: case 0x2122:
        return 1;
    default:
        return 0;
    }
}

/* fixes._SUSPECT on the text itself instead of its UTF-8 bytes (UTF-8 is self-synchronising, so
 * the byte pattern matches exactly where these characters do): a character U+00C2-U+00F4 (a UTF-8
 * lead byte read as Latin-1) followed by ``continuation_as_text``, or a C1 control U+0080-U+009F. */
static PyObject *suspect(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "suspect: expected str, got %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (PyUnicode_IS_ASCII(text)) {
        Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 0x80 || ch > 0xF4) {
            continue;
        }
        if (ch <= 0x9F) {
            Py_RETURN_TRUE;
        }
        if (ch >= 0xC2 && i + 1 < n && continuation_as_text(PyUnicode_READ(kind, data, i + 1))) {
            Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"suspect", suspect, METH_O, "suspect(text) -> whether text may hold mojibake (fixes._SUSPECT, on characters)."},
    {"words", words, METH_O, "words(text) -> the runs of \\w in text, in order (as re.findall(r'\\w+'))."},
    {"figures", figures, METH_O, "figures(text) -> the runs of \\w in text that hold a decimal digit, in order."},
    {"signatures", signatures, METH_VARARGS,
     "signatures(code_points u32, starts i64, lengths i64, multipliers u64, a u32, b u32, out u32): "
     "fill out (keys x permutations) with MinHash values."},
    {"agreement", agreement, METH_VARARGS,
     "agreement(sketch u8 (rows x width), width, pairs i64 (n x 2), out f64 (n)): the share of equal "
     "bytes of each pair's rows."},
    {"merge_band", merge_band, METH_VARARGS,
     "merge_band(old_values u32, old_ids i32, new_values u32, new_ids i32, first_members, width, "
     "values_out u32, ids_out i32, codes_out i64) -> number of pair codes written."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dedup._kernels",
    "dedup's compiled inner loops (signatures, sketch agreement, LSH band merge, word tokens).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
