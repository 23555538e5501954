/* The inner loops dedup runs over whole batches, compiled: MinHash signatures, the candidate
 * gate and its sketch agreement, the insert of a batch into the LSH table, the folds of a
 * matching key, the word tokens of a key and the content guard itself, and the mojibake
 * pre-check. Each gives exactly what the Python or numpy code beside it gives
 * (signatures.MinHasher, Index.agreement, pipeline.plausible, lsh.BandTable.add,
 * keys.python_matching_key, keys.words and keys.figures,
 * verify.python_novel_words and its kin, fixes._SUSPECT); the tests compare them value for value.
 *
 * Why C and not a JIT: importing this module costs about a millisecond, where importing numba
 * and loading its cached machine code cost 0.45-0.55 s in every process that used it (and about
 * 150 MB of memory), so small runs signed with numpy and big ones paid the load. Built at install
 * time as an optional extension: without a compiler dedup runs on numpy alone, same values.
 *
 * Arrays arrive through the buffer protocol (numpy arrays, C-contiguous); every index is checked
 * before the loops run, so a wrong call raises instead of reading out of bounds. The numeric
 * loops run without the GIL; the text scans read str objects and hold it.
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

/* -- merged-line windows ---------------------------------------------------------------------- */

/* plan._MERGE_WINDOWS: the members of each window, as offsets from the part's copy q. */
static const int WINDOW_SIZE[7] = {2, 2, 2, 2, 3, 3, 3};
static const int WINDOW_OFFSETS[7][3] = {{-1, 0, 0}, {0, 1, 0}, {-2, 0, 0}, {0, 2, 0}, {-1, 0, 1}, {-2, -1, 0}, {0, 1, 2}};

/* merge_windows(para_key, key_len, prints, first, end, q, gid, min_part, shortest, longest,
 * own_print): the windows around paragraph q (members between first and end) that could be the
 * paragraph gid run together: every member's key at least min_part characters, the joined length
 * between shortest and longest, gid not among them, and the members' figure prints summing to
 * own_print. A list of (paragraphs, keys) tuples, in plan._MERGE_WINDOWS order (plan._windows,
 * the Python loop this replaces, gives the same). */
static PyObject *merge_windows(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Py_ssize_t first, end, q, gid, shortest, longest;
    double min_part;
    unsigned long long own_print;
    if (!PyArg_ParseTuple(args, "OOOnnnndnnK:merge_windows", &o[0], &o[1], &o[2], &first, &end, &q, &gid,
                          &min_part, &shortest, &longest, &own_print)) {
        return NULL;
    }
    Held para_key = {0}, key_len = {0}, prints = {0};
    Py_ssize_t n_paras, n_keys, n_prints;
    PyObject *out = NULL;
    if (take(o[0], &para_key, 4, 0, "para_key", &n_paras) < 0 || take(o[1], &key_len, 4, 0, "key_len", &n_keys) < 0 ||
        take(o[2], &prints, 8, 0, "prints", &n_prints) < 0) {
        goto done;
    }
    if (first < 0 || end > n_paras || first > q || q >= end || n_prints < n_keys) {
        PyErr_SetString(PyExc_ValueError, "merge_windows: q, first or end out of range");
        goto done;
    }
    const int32_t *keys = para_key.view.buf, *lengths = key_len.view.buf;
    const uint64_t *print_of = prints.view.buf;
    for (Py_ssize_t g = first; g < end; g++) {
        if (keys[g] < 0 || keys[g] >= n_keys) {
            PyErr_SetString(PyExc_ValueError, "merge_windows: a paragraph's key is out of range");
            goto done;
        }
    }
    out = PyList_New(0);
    for (int w = 0; out != NULL && w < 7; w++) {
        const int size = WINDOW_SIZE[w];
        const int *offsets = WINDOW_OFFSETS[w];
        if (q + offsets[0] < first || q + offsets[size - 1] >= end) {
            continue;
        }
        Py_ssize_t total = size - 1;
        int fits = 1, has_gid = 0;
        uint64_t sum = 0;
        for (int m = 0; m < size; m++) {
            const Py_ssize_t g = q + offsets[m];
            const int32_t length = lengths[keys[g]];
            fits &= (double)length >= min_part;
            total += length;
            has_gid |= g == gid;
            sum += print_of[keys[g]];
        }
        if (!fits || total < shortest || total > longest || has_gid || sum != (uint64_t)own_print) {
            continue;
        }
        PyObject *window = PyTuple_New(size), *window_keys = PyTuple_New(size), *item = NULL;
        for (int m = 0; window != NULL && window_keys != NULL && m < size; m++) {
            const Py_ssize_t g = q + offsets[m];
            PyObject *a = PyLong_FromSsize_t(g), *b = PyLong_FromLong(keys[g]);
            if (a == NULL || b == NULL) {
                Py_XDECREF(a), Py_XDECREF(b);
                Py_CLEAR(window);
                break;
            }
            PyTuple_SET_ITEM(window, m, a);
            PyTuple_SET_ITEM(window_keys, m, b);
        }
        if (window != NULL && window_keys != NULL) {
            item = PyTuple_Pack(2, window, window_keys);
        }
        Py_XDECREF(window), Py_XDECREF(window_keys);
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_CLEAR(out);
        }
        Py_XDECREF(item);
    }
done:
    release(&para_key), release(&key_len), release(&prints);
    return out;
}

/* -- signatures ------------------------------------------------------------------------------ */

/* One key as the signature loop reads it: its characters in place, in the str's own storage. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t length;
} Key;

/* The shingle hashes of one key into ``mixed``: the polynomial hash of the ``ngram`` characters
 * from each position (NUL past the key's end, as MinHasher._layout pads it), folded
 * (MinHasher._window_hashes, _fold), then MurmurHash3's 32-bit finalizer (signatures._fmix32). */
#define MIX_LOOP(T)                                                                                   \
    do {                                                                                              \
        const T *cp = (const T *)key->data;                                                           \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            uint64_t h = 0;                                                                           \
            if (i + ngram <= n) {                                                                     \
                for (Py_ssize_t j = 0; j < ngram; j++) {                                              \
                    h += (uint64_t)cp[i + j] * multipliers[j];                                        \
                }                                                                                     \
            } else {                                                                                  \
                for (Py_ssize_t j = 0; i + j < n; j++) {                                              \
                    h += (uint64_t)cp[i + j] * multipliers[j];                                        \
                }                                                                                     \
            }                                                                                         \
            h ^= h >> 29;                                                                             \
            uint32_t x = (uint32_t)((h * FOLD) >> 32);                                                \
            x ^= x >> 16;                                                                             \
            x *= UINT32_C(0x85EBCA6B);                                                                \
            x ^= x >> 13;                                                                             \
            x *= UINT32_C(0xC2B2AE35);                                                                \
            mixed[i] = x ^ (x >> 16);                                                                 \
        }                                                                                             \
    } while (0)

DEDUP_CLONES
static void sign(const Key *keys, Py_ssize_t count, const uint64_t *multipliers, Py_ssize_t ngram, const uint32_t *a,
                 const uint32_t *b, Py_ssize_t num_perm, uint32_t *mixed, uint32_t *out) {
    for (Py_ssize_t k = 0; k < count; k++) {
        const Key *key = &keys[k];
        const Py_ssize_t n = key->length;
        if (key->kind == PyUnicode_1BYTE_KIND) {
            MIX_LOOP(Py_UCS1);
        } else if (key->kind == PyUnicode_2BYTE_KIND) {
            MIX_LOOP(Py_UCS2);
        } else {
            MIX_LOOP(Py_UCS4);
        }
        uint32_t *row = out + k * num_perm;
        Py_ssize_t p = 0;
        /* four permutations a pass: each shingle hash is loaded once for four products */
        for (; p + 4 <= num_perm; p += 4) {
            const uint32_t a0 = a[p], a1 = a[p + 1], a2 = a[p + 2], a3 = a[p + 3];
            const uint32_t b0 = b[p], b1 = b[p + 1], b2 = b[p + 2], b3 = b[p + 3];
            uint32_t l0 = UINT32_C(0xFFFFFFFF), l1 = l0, l2 = l0, l3 = l0;
            for (Py_ssize_t i = 0; i < n; i++) {
                const uint32_t m = mixed[i];
                const uint32_t v0 = a0 * m + b0, v1 = a1 * m + b1, v2 = a2 * m + b2, v3 = a3 * m + b3;
                l0 = v0 < l0 ? v0 : l0;
                l1 = v1 < l1 ? v1 : l1;
                l2 = v2 < l2 ? v2 : l2;
                l3 = v3 < l3 ? v3 : l3;
            }
            row[p] = l0;
            row[p + 1] = l1;
            row[p + 2] = l2;
            row[p + 3] = l3;
        }
        for (; p < num_perm; p++) {
            const uint32_t ap = a[p], bp = b[p];
            uint32_t low = UINT32_C(0xFFFFFFFF); /* an empty key keeps datasketch's empty value */
            for (Py_ssize_t i = 0; i < n; i++) {
                const uint32_t v = ap * mixed[i] + bp; /* a * h + b mod 2**32 */
                low = v < low ? v : low;
            }
            row[p] = low;
        }
    }
}

/* signatures(keys, multipliers, a, b, out): the MinHash signature of each key (a sequence of
 * str) into the rows of ``out``. The characters are read where the strings keep them, so there is
 * no joined copy of the batch and no UTF-32 encoding of it (those cost about half as much as the
 * loop itself); the keys are held in a tuple while the loop runs without the GIL. */
static PyObject *signatures(PyObject *self, PyObject *args) {
    PyObject *sequence, *o[4];
    if (!PyArg_ParseTuple(args, "OOOOO:signatures", &sequence, &o[0], &o[1], &o[2], &o[3])) {
        return NULL;
    }
    PyObject *held = PySequence_Tuple(sequence);
    if (held == NULL) {
        return NULL;
    }
    Held mult = {0}, a = {0}, b = {0}, out = {0};
    Py_ssize_t ngram, num_perm, n_b, n_out;
    PyObject *result = NULL;
    Key *keys = NULL;
    uint32_t *mixed = NULL;
    const Py_ssize_t count = PyTuple_GET_SIZE(held);
    if (take(o[0], &mult, 8, 0, "multipliers", &ngram) < 0 || take(o[1], &a, 4, 0, "a", &num_perm) < 0 ||
        take(o[2], &b, 4, 0, "b", &n_b) < 0 || take(o[3], &out, 4, 1, "out", &n_out) < 0) {
        goto done;
    }
    if (n_b != num_perm || n_out != count * num_perm || ngram < 1) {
        PyErr_SetString(PyExc_ValueError, "signatures: array sizes do not match");
        goto done;
    }
    keys = PyMem_Malloc(sizeof(Key) * (size_t)(count > 0 ? count : 1));
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t longest = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *text = PyTuple_GET_ITEM(held, k);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "signatures: key %zd is %.100s, not str", k, Py_TYPE(text)->tp_name);
            goto done;
        }
        keys[k].kind = PyUnicode_KIND(text);
        keys[k].data = PyUnicode_DATA(text);
        keys[k].length = PyUnicode_GET_LENGTH(text);
        longest = keys[k].length > longest ? keys[k].length : longest;
    }
    mixed = PyMem_RawMalloc((size_t)(longest > 0 ? longest : 1) * sizeof(uint32_t));
    if (mixed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    sign(keys, count, mult.view.buf, ngram, a.view.buf, b.view.buf, num_perm, mixed, out.view.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(mixed);
    PyMem_Free(keys);
    release(&mult), release(&a), release(&b), release(&out);
    Py_DECREF(held);
    return result;
}

/* -- LSH band values ------------------------------------------------------------------------- */

/* band_values(signatures u32 (keys x num_perm), rows, mix u64[4], out u32 (keys x bands)): one hash
 * of each band of each signature, lsh.numpy_band_values in one pass: band b is values
 * b * rows .. b * rows + rows - 1, folded in order with the mixing constants, then offset by its
 * number and folded to 32 bits. */
static PyObject *band_hashes(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Py_ssize_t rows;
    if (!PyArg_ParseTuple(args, "OnOO:band_values", &o[0], &rows, &o[1], &o[2])) {
        return NULL;
    }
    Held sig = {0}, mix = {0}, out = {0};
    Py_ssize_t n_sig, n_mix, n_out;
    PyObject *result = NULL;
    if (take(o[0], &sig, 4, 0, "signatures", &n_sig) < 0 || take(o[1], &mix, 8, 0, "mix", &n_mix) < 0 ||
        take(o[2], &out, 4, 1, "out", &n_out) < 0) {
        goto done;
    }
    if (sig.view.ndim != 2 || out.view.ndim != 2 || n_mix != 4 || rows < 1) {
        PyErr_SetString(PyExc_ValueError, "band_values: expected 2-d signatures and out, four mixing constants");
        goto done;
    }
    const Py_ssize_t keys = sig.view.shape[0], num_perm = sig.view.shape[1], bands = out.view.shape[1];
    if (out.view.shape[0] != keys || bands * rows > num_perm) {
        PyErr_SetString(PyExc_ValueError, "band_values: array sizes do not match");
        goto done;
    }
    const uint32_t *s = sig.view.buf;
    const uint64_t *m = mix.view.buf;
    uint32_t *o32 = out.view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < keys; k++) {
        const uint32_t *row = s + k * num_perm;
        for (Py_ssize_t b = 0; b < bands; b++) {
            uint64_t acc = 0;
            for (Py_ssize_t r = 0; r < rows; r++) {
                acc ^= (uint64_t)row[b * rows + r] + m[r % 4] + (acc << 6) + (acc >> 2);
                acc *= m[(r + 1) % 4];
            }
            acc += (uint64_t)b * m[3];
            acc ^= acc >> 32;
            o32[k * bands + b] = (uint32_t)acc;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&sig), release(&mix), release(&out);
    return result;
}

/* -- sketch agreement ------------------------------------------------------------------------ */

/* Whether every one of the ``n_pairs / 2`` pairs names rows below ``rows`` (an IndexError if not). */
static int check_pairs(const int64_t *p, Py_ssize_t n_pairs, int64_t rows, const char *name) {
    for (Py_ssize_t k = 0; k < n_pairs; k++) {
        if (p[k] < 0 || p[k] >= rows) {
            PyErr_Format(PyExc_IndexError, "%s: pair %zd names a row out of range", name, k / 2);
            return -1;
        }
    }
    return 0;
}

/* How many of the ``width`` bytes of two sketch rows are equal. */
static inline Py_ssize_t same_bytes(const uint8_t *x, const uint8_t *y, Py_ssize_t width) {
    Py_ssize_t same = 0;
    for (Py_ssize_t i = 0; i < width; i++) {
        same += x[i] == y[i];
    }
    return same;
}

/* How many pairs ahead the gate asks for its sketch rows. */
#define GATE_AHEAD 8

/* Ask for a sketch row's cache lines before it is read. */
static inline void prefetch_row(const uint8_t *row, Py_ssize_t width) {
    for (Py_ssize_t at = 0; at < width; at += 64) {
        __builtin_prefetch(row + at);
    }
}

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
    const int64_t *p = pairs.view.buf;
    if (check_pairs(p, n_pairs, n_sketch / width, "agreement") < 0) {
        goto done;
    }
    const uint8_t *rows_at = sketch.view.buf;
    double *share = out.view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_out; k++) {
        const Py_ssize_t same = same_bytes(rows_at + p[2 * k] * width, rows_at + p[2 * k + 1] * width, width);
        share[k] = (double)same / (double)width;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&sketch), release(&pairs), release(&out);
    return result;
}

/* gate(sketch, width, pairs, key_len, min_chars, share, long_chars, flags): the candidate gate
 * (pipeline.plausible) in one pass: for each pair, bit 1 of ``flags`` when it passes (its shorter
 * key has fewer than ``min_chars`` characters, or the keys' sketch agreement is at least ``share``
 * times their length ratio) and bit 2 when either key has ``long_chars`` characters or more. */
static PyObject *gate(PyObject *self, PyObject *args) {
    PyObject *o[4];
    Py_ssize_t width;
    long long min_chars, long_chars;
    double share;
    if (!PyArg_ParseTuple(args, "OnOOLdLO:gate", &o[0], &width, &o[1], &o[2], &min_chars, &share, &long_chars,
                          &o[3])) {
        return NULL;
    }
    Held sketch = {0}, pairs = {0}, lengths = {0}, flags = {0};
    Py_ssize_t n_sketch, n_pairs, n_lengths, n_flags;
    PyObject *result = NULL;
    if (take(o[0], &sketch, 1, 0, "sketch", &n_sketch) < 0 || take(o[1], &pairs, 8, 0, "pairs", &n_pairs) < 0 ||
        take(o[2], &lengths, 4, 0, "key_len", &n_lengths) < 0 || take(o[3], &flags, 1, 1, "flags", &n_flags) < 0) {
        goto done;
    }
    if (width < 1 || n_sketch % width != 0 || n_pairs != 2 * n_flags) {
        PyErr_SetString(PyExc_ValueError, "gate: array sizes do not match");
        goto done;
    }
    const int64_t *p = pairs.view.buf; /* rows of the sketch that have a length too */
    if (check_pairs(p, n_pairs, n_sketch / width < n_lengths ? n_sketch / width : n_lengths, "gate") < 0) {
        goto done;
    }
    const uint8_t *rows_at = sketch.view.buf;
    const int32_t *len = lengths.view.buf;
    uint8_t *out = flags.view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_flags; k++) {
        if (k + GATE_AHEAD < n_flags) { /* rows of a big index are cache misses: ask for them early */
            prefetch_row(rows_at + p[2 * (k + GATE_AHEAD)] * width, width);
            prefetch_row(rows_at + p[2 * (k + GATE_AHEAD) + 1] * width, width);
        }
        const int64_t a = p[2 * k], b = p[2 * k + 1];
        const int32_t la = len[a], lb = len[b];
        const int32_t shorter = la < lb ? la : lb, longer = la < lb ? lb : la;
        uint8_t f = (la >= long_chars || lb >= long_chars) ? 2 : 0;
        if (shorter < min_chars) {
            f |= 1;
        } else {
            const Py_ssize_t same = same_bytes(rows_at + a * width, rows_at + b * width, width);
            const double ratio = (double)shorter / (double)(longer > 1 ? longer : 1);
            if ((double)same / (double)width >= share * ratio) { /* as plausible() computes it */
                f |= 1;
            }
        }
        out[k] = f;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&sketch), release(&pairs), release(&lengths), release(&flags);
    return result;
}

/* -- the LSH table ----------------------------------------------------------------------------- */

/* LSD radix sorts with 11-bit digits: every digit's histogram in one read pass, then one stable
 * scatter a digit between two buffers (a digit where every key agrees is skipped). Both return
 * the buffer that holds the sorted keys: ``keys`` or ``tmp_keys`` (``items`` likewise). */
#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

/* ``n`` 32-bit keys with a 32-bit item each (a position), stably. */
static uint32_t *radix_sort32(uint32_t *keys, int32_t *items, uint32_t *tmp_keys, int32_t *tmp_items, Py_ssize_t n,
                              int32_t **sorted_items) {
    enum { DIGITS = 3 };
    static const int shifts[DIGITS] = {0, 11, 22};
    Py_ssize_t count[DIGITS][RADIX_SIZE + 1];
    memset(count, 0, sizeof(count));
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t k = keys[i];
        count[0][(k & (RADIX_SIZE - 1)) + 1]++;
        count[1][((k >> 11) & (RADIX_SIZE - 1)) + 1]++;
        count[2][(k >> 22) + 1]++;
    }
    uint32_t *src = keys, *dst = tmp_keys;
    int32_t *src_items = items, *dst_items = tmp_items;
    for (int d = 0; d < DIGITS; d++) {
        Py_ssize_t *c = count[d];
        if (n == 0 || c[((src[0] >> shifts[d]) & (RADIX_SIZE - 1)) + 1] == n) {
            continue;
        }
        for (int v = 0; v < RADIX_SIZE; v++) {
            c[v + 1] += c[v];
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            const Py_ssize_t at = c[(src[i] >> shifts[d]) & (RADIX_SIZE - 1)]++;
            dst[at] = src[i];
            dst_items[at] = src_items[i];
        }
        uint32_t *t = src;
        src = dst, dst = t;
        int32_t *ti = src_items;
        src_items = dst_items, dst_items = ti;
    }
    *sorted_items = src_items;
    return src;
}

/* ``n`` 64-bit keys below ``2 ** bits``, no items. */
static uint64_t *radix_sort64(uint64_t *keys, uint64_t *tmp_keys, Py_ssize_t n, int bits) {
    const int digits = (bits + RADIX_BITS - 1) / RADIX_BITS;
    Py_ssize_t(*count)[RADIX_SIZE + 1] = calloc((size_t)(digits > 0 ? digits : 1), sizeof(*count));
    if (count == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        for (int d = 0; d < digits; d++) {
            count[d][((keys[i] >> (RADIX_BITS * d)) & (RADIX_SIZE - 1)) + 1]++;
        }
    }
    uint64_t *src = keys, *dst = tmp_keys;
    for (int d = 0; d < digits; d++) {
        Py_ssize_t *c = count[d];
        const int shift = RADIX_BITS * d;
        if (n == 0 || c[((src[0] >> shift) & (RADIX_SIZE - 1)) + 1] == n) {
            continue;
        }
        for (int v = 0; v < RADIX_SIZE; v++) {
            c[v + 1] += c[v];
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            dst[c[(src[i] >> shift) & (RADIX_SIZE - 1)]++] = src[i];
        }
        uint64_t *t = src;
        src = dst, dst = t;
    }
    free(count);
    return src;
}

/* The first index in ``a[lo..hi)`` (sorted) whose value is not below ``v``. */
static inline Py_ssize_t lower_bound(const uint32_t *a, Py_ssize_t lo, Py_ssize_t hi, uint32_t v) {
    Py_ssize_t n = hi - lo;
    if (n <= 0) {
        return lo;
    }
    const uint32_t *base = a + lo; /* everything before base is below v; the answer is within n of it */
    while (n > 1) {
        const Py_ssize_t half = n >> 1;
        base = base[half] < v ? base + half : base; /* a conditional move, not a branch */
        n -= half;
    }
    return (base - a) + (*base < v);
}

/* The first index in ``a[lo..size)`` (sorted) whose value is not below ``v``, found by galloping
 * from ``lo``: the new values of a batch come in order, so each search starts where the last one
 * ended and reads the table forwards, a few cache lines a key, not a binary search's misses. */
static inline Py_ssize_t gallop(const uint32_t *a, Py_ssize_t lo, Py_ssize_t size, uint32_t v) {
    if (lo >= size || a[lo] >= v) {
        return lo;
    }
    Py_ssize_t bound = 1; /* a[lo + bound / 2] < v */
    while (lo + bound < size && a[lo + bound] < v) {
        bound <<= 1;
    }
    return lower_bound(a, lo + bound / 2 + 1, lo + bound < size ? lo + bound : size, v);
}

/* One band: the new keys (values sorted, equal ones in id order) paired with the bucket they join,
 * as the merged table orders it (old members first, then new ones, each in id order): with the
 * bucket's first ``first_members`` members and with the member just before, as codes
 * ``earlier << shift | new`` (lsh._bucket_pairs); then merged into the table in place, from the
 * back: each new value goes after the equal old ones (``at``, scratch for ``n_new`` positions) and
 * each run of old entries between two new ones moves up once, by memmove (on a million-key table
 * the merge is a copy of the whole band a batch: memmove runs it at memory speed, where a compare
 * an entry did not). Returns the number of codes written. */
static Py_ssize_t add_band(uint32_t *values, int32_t *ids, Py_ssize_t size, const uint32_t *new_values,
                           const int32_t *new_ids, Py_ssize_t n_new, Py_ssize_t first_members, int shift,
                           int64_t *codes, Py_ssize_t *at) {
    Py_ssize_t m = 0, lo = 0, hi = 0, j0 = 0;
    for (Py_ssize_t j = 0; j < n_new; j++) {
        const uint32_t v = new_values[j];
        if (j == 0 || v != new_values[j - 1]) { /* a bucket not met yet in this batch */
            j0 = j;
            lo = gallop(values, hi, size, v);
            hi = lo;
            while (hi < size && values[hi] == v) {
                hi++;
            }
        }
        const Py_ssize_t old = hi - lo, earlier = old + (j - j0);
        const int64_t new = new_ids[j];
        for (Py_ssize_t k = 0; k < earlier && k < first_members; k++) {
            codes[m++] = (int64_t)(k < old ? ids[lo + k] : new_ids[j0 + k - old]) << shift | new;
        }
        if (earlier > first_members) {
            codes[m++] = (int64_t)(j > j0 ? new_ids[j - 1] : ids[hi - 1]) << shift | new;
        }
        at[j] = hi; /* after the equal old entries */
    }
    Py_ssize_t end = size; /* old entries [at[j], end) move up by j + 1 places */
    for (Py_ssize_t j = n_new - 1; j >= 0; j--) {
        const Py_ssize_t from = at[j], count = end - from;
        if (count > 0) {
            memmove(values + from + j + 1, values + from, (size_t)count * sizeof(*values));
            memmove(ids + from + j + 1, ids + from, (size_t)count * sizeof(*ids));
        }
        values[from + j] = new_values[j], ids[from + j] = new_ids[j];
        end = from;
    }
    return m;
}

/* lsh.BandTable.add, every band in one call without the GIL: each band's new values sorted
 * (equal ones in id order), paired and merged in place (``add_band``); the pair codes of all
 * bands gathered, sorted and made unique. Returns the number of unique codes left at the start
 * of ``*codes`` (malloc'ed here, freed by the caller), or -1 when memory ran out. */
static Py_ssize_t add_all_bands(uint32_t **values, int32_t **ids, Py_ssize_t size, Py_ssize_t bands,
                                const uint32_t *new_values, const int32_t *new_ids, Py_ssize_t n_new,
                                Py_ssize_t first_members, int shift, int64_t **codes) {
    const Py_ssize_t per_band = n_new * (first_members + 1); /* the most codes one band can give */
    const size_t scratch = (size_t)(n_new > 0 ? n_new : 1);
    Py_ssize_t room = per_band > 1024 ? per_band : 1024, m = 0;
    uint32_t *band_values = malloc(scratch * sizeof(uint32_t)), *tmp_values = malloc(scratch * sizeof(uint32_t));
    int32_t *order = malloc(scratch * sizeof(int32_t)), *tmp_order = malloc(scratch * sizeof(int32_t));
    int32_t *band_ids = malloc(scratch * sizeof(int32_t));
    Py_ssize_t *at = malloc(scratch * sizeof(Py_ssize_t));
    uint64_t *tmp_codes = NULL;
    int64_t *out = malloc((size_t)room * sizeof(int64_t));
    Py_ssize_t result = -1;
    if (!band_values || !tmp_values || !order || !tmp_order || !band_ids || !at || !out) {
        goto done;
    }
    for (Py_ssize_t b = 0; b < bands; b++) {
        for (Py_ssize_t j = 0; j < n_new; j++) {
            band_values[j] = new_values[j * bands + b];
            order[j] = (int32_t)j;
        }
        int32_t *sorted_order;
        const uint32_t *sorted = radix_sort32(band_values, order, tmp_values, tmp_order, n_new, &sorted_order);
        for (Py_ssize_t j = 0; j < n_new; j++) {
            band_ids[j] = new_ids[sorted_order[j]];
        }
        if (m + per_band > room) {
            Py_ssize_t grown = room;
            while (m + per_band > grown) {
                grown *= 2;
            }
            int64_t *more = realloc(out, (size_t)grown * sizeof(int64_t));
            if (more == NULL) {
                goto done;
            }
            out = more, room = grown;
        }
        m += add_band(values[b], ids[b], size, sorted, band_ids, n_new, first_members, shift, out + m, at);
    }
    tmp_codes = malloc((size_t)(m > 0 ? m : 1) * sizeof(uint64_t));
    if (tmp_codes == NULL) {
        goto done;
    }
    /* codes have 2 * shift bits: only those need sorting */
    const uint64_t *ordered = radix_sort64((uint64_t *)out, tmp_codes, m, 2 * shift);
    if (ordered == NULL) {
        goto done;
    }
    Py_ssize_t unique = 0;
    for (Py_ssize_t k = 0; k < m; k++) {
        if (unique == 0 || (int64_t)ordered[k] != out[unique - 1]) {
            out[unique++] = (int64_t)ordered[k]; /* never ahead of k: safe when ordered is out */
        }
    }
    *codes = out;
    out = NULL;
    result = unique;
done:
    free(band_values), free(tmp_values), free(order), free(tmp_order), free(band_ids), free(at), free(tmp_codes), free(out);
    return result;
}

/* add_bands(values, ids, size, new values, new ids, first members, width): the table (two lists of
 * one array a band, the first ``size`` entries in use, room for the new keys after them), the new
 * keys' band values (n x bands, uint32) and ids (int32, increasing, all above the table's, below
 * ``width``); the new keys are merged in place and the candidate pairs ``(earlier, new)``, sorted
 * and unique, are returned as a bytearray of int64 (m x 2: writable, for numpy.frombuffer). */
static PyObject *add_bands(PyObject *self, PyObject *args) {
    PyObject *v_list, *id_list, *new_v_obj, *new_id_obj;
    Py_ssize_t size, first_members;
    long long width;
    if (!PyArg_ParseTuple(args, "O!O!nOOnL:add_bands", &PyList_Type, &v_list, &PyList_Type, &id_list, &size,
                          &new_v_obj, &new_id_obj, &first_members, &width)) {
        return NULL;
    }
    const Py_ssize_t bands = PyList_GET_SIZE(v_list);
    if (PyList_GET_SIZE(id_list) != bands || size < 0 || first_members < 0 || width < 1 || width > ((long long)1 << 31)) {
        PyErr_SetString(PyExc_ValueError,
                        "add_bands: one array a band in both lists, size and first_members >= 0, 0 < width <= 2**31");
        return NULL;
    }
    Held new_v = {0}, new_id = {0};
    Held *held = calloc((size_t)(2 * bands + 1), sizeof(Held));
    uint32_t **values = calloc((size_t)bands + 1, sizeof(*values));
    int32_t **ids = calloc((size_t)bands + 1, sizeof(*ids));
    int64_t *codes = NULL;
    PyObject *result = NULL;
    Py_ssize_t n_values, n_new;
    if (!held || !values || !ids) {
        PyErr_NoMemory();
        goto done;
    }
    if (take(new_v_obj, &new_v, 4, 0, "new values", &n_values) < 0 ||
        take(new_id_obj, &new_id, 4, 0, "new ids", &n_new) < 0) {
        goto done;
    }
    if (n_values != n_new * bands) {
        PyErr_SetString(PyExc_ValueError, "add_bands: new values are not one row of bands a new id");
        goto done;
    }
    const int32_t *nid = new_id.view.buf;
    for (Py_ssize_t j = 0; j < n_new; j++) {
        if (nid[j] < 0 || nid[j] >= width || (j > 0 && nid[j] <= nid[j - 1])) {
            PyErr_SetString(PyExc_ValueError, "add_bands: new ids must increase, from 0 to below width");
            goto done;
        }
    }
    for (Py_ssize_t b = 0; b < bands; b++) {
        Py_ssize_t n_room, n_id_room;
        if (take(PyList_GET_ITEM(v_list, b), &held[2 * b], 4, 1, "values", &n_room) < 0 ||
            take(PyList_GET_ITEM(id_list, b), &held[2 * b + 1], 4, 1, "ids", &n_id_room) < 0) {
            goto done;
        }
        if (n_room < size + n_new || n_id_room < size + n_new) {
            PyErr_Format(PyExc_ValueError, "add_bands: band %zd: no room for %zd more after %zd", b, n_new, size);
            goto done;
        }
        values[b] = held[2 * b].view.buf, ids[b] = held[2 * b + 1].view.buf;
    }
    int shift = 1; /* the bits of the largest id: a code is ``earlier << shift | new`` */
    while (((long long)1 << shift) < width) {
        shift++;
    }
    Py_ssize_t count;
    Py_BEGIN_ALLOW_THREADS
    count = add_all_bands(values, ids, size, bands, new_v.view.buf, nid, n_new, first_members, shift, &codes);
    Py_END_ALLOW_THREADS
    if (count < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyByteArray_FromStringAndSize(NULL, 2 * count * (Py_ssize_t)sizeof(int64_t));
    if (result != NULL) {
        int64_t *pairs = (int64_t *)PyByteArray_AS_STRING(result);
        const int64_t mask = ((int64_t)1 << shift) - 1;
        for (Py_ssize_t k = 0; k < count; k++) {
            pairs[2 * k] = codes[k] >> shift, pairs[2 * k + 1] = codes[k] & mask;
        }
    }
done:
    free(codes);
    if (held != NULL) {
        for (Py_ssize_t k = 0; k < 2 * bands; k++) {
            release(&held[k]);
        }
    }
    release(&new_v), release(&new_id);
    free(held), free(values), free(ids);
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

/* fixes.whitespace_signs: which of the patterns the whitespace fix looks for occur in ``text``,
 * as bits (fixes.TAB ... fixes.BLANK_LINES). The fix then runs only the scans and regexes whose
 * pattern is there: each ``in`` test of a substring was a pass of its own over the text, and a
 * slow one on text with any character beyond Latin-1 (two bytes a character). Here one pass
 * tests every position for every pattern without a branch, which the compiler turns into SIMD
 * code (a loop that stopped at each space ran at 3 ns a character); only a line break followed
 * by a space or tab sends a second, exact scan after a line of spaces or tabs only. */
static PyObject *whitespace_signs(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "whitespace_signs: expected str, got %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    long signs = 0;
#define SIGNS_LOOP(T)                                                                                  \
    do {                                                                                              \
        const T *cp = (const T *)PyUnicode_DATA(text);                                                \
        unsigned tab = 0, cr = 0, twice = 0, trailing = 0, three = 0, indented = 0;                   \
        Py_ssize_t i = 0;                                                                             \
        for (; i + 2 < n; i++) {                                                                      \
            const T a = cp[i], b = cp[i + 1], c = cp[i + 2];                                          \
            const unsigned a_space = a == ' ', a_blank = a_space | (a == '\t');                       \
            const unsigned b_break = (b == '\n') | (b == '\r'), b_blank = (b == ' ') | (b == '\t');   \
            tab |= a == '\t';                                                                         \
            cr |= a == '\r';                                                                          \
            twice |= a_space & (b == ' ');                                                            \
            trailing |= a_blank & b_break;                                                            \
            three |= (a == '\n') & (b == '\n') & (c == '\n');                                         \
            indented |= (a == '\n') & b_blank;                                                        \
        }                                                                                             \
        for (; i < n; i++) { /* the last two characters, and the end of the text */                  \
            const T a = cp[i];                                                                        \
            const Py_UCS4 b = i + 1 < n ? cp[i + 1] : 0;                                              \
            const unsigned a_blank = (a == ' ') | (a == '\t');                                        \
            tab |= a == '\t';                                                                         \
            cr |= a == '\r';                                                                          \
            twice |= (a == ' ') & (b == ' ');                                                         \
            trailing |= a_blank & ((b == '\n') | (b == '\r') | (i + 1 == n));                         \
            indented |= (a == '\n') & ((b == ' ') | (b == '\t'));                                     \
        }                                                                                             \
        signs = (tab ? 1 : 0) | (cr ? 2 : 0) | (twice ? 4 : 0) | (trailing ? 8 : 0) | (three ? 16 : 0); \
        if (indented && !three) { /* a line of spaces or tabs only: \n[ \t]+\r?\n */                  \
            for (Py_ssize_t k = 0; k < n; k++) {                                                      \
                if (cp[k] != '\n') {                                                                  \
                    continue;                                                                         \
                }                                                                                     \
                Py_ssize_t j = k + 1;                                                                 \
                while (j < n && (cp[j] == ' ' || cp[j] == '\t')) {                                    \
                    j++;                                                                              \
                }                                                                                     \
                if (j > k + 1 && j < n && cp[j] == '\r') {                                            \
                    j++;                                                                              \
                }                                                                                     \
                if (j > k + 1 && j < n && cp[j] == '\n') {                                             \
                    signs |= 16;                                                                      \
                    break;                                                                            \
                }                                                                                     \
                k = j - 1;                                                                            \
            }                                                                                         \
        }                                                                                             \
    } while (0)
    const int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        SIGNS_LOOP(Py_UCS1);
    } else if (kind == PyUnicode_2BYTE_KIND) {
        SIGNS_LOOP(Py_UCS2);
    } else {
        SIGNS_LOOP(Py_UCS4);
    }
#undef SIGNS_LOOP
    return PyLong_FromLong(signs);
}

/* -- matching keys ------------------------------------------------------------------------------ */

/* One pass of keys.matching_key over a text: with ``fold``, characters whose class in ``classes``
 * (a byte per code point, keys._MARK_CLASSES) is 1 are dropped and classes 2, 3 and 4 become ',
 * " and -; with ``lower``, ASCII capitals become small letters; with ``collapse``, runs of
 * whitespace (str.isspace) become one space and the ends are stripped, as " ".join(text.split()).
 * A character dropped between two spaces leaves one run, as dropping it first and then splitting
 * does. */
/* The loop of fold_key over characters of type IN (the text's kind) into a buffer of type OUT,
 * which holds any character the text holds (the output never holds a character the input lacks,
 * but for ', ", - and a space); returns the output length and the largest character written. */
#define FOLD_LOOP(IN, OUT)                                                                            \
    do {                                                                                              \
        const IN *src = (const IN *)data;                                                             \
        OUT *dst = (OUT *)buffer;                                                                     \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            Py_UCS4 ch = src[i];                                                                      \
            if (fold && (Py_ssize_t)ch < known) {                                                     \
                switch (classes[ch]) {                                                                \
                case 1: continue;                                                                     \
                case 2: ch = '\''; break;                                                             \
                case 3: ch = '"'; break;                                                              \
                case 4: ch = '-'; break;                                                              \
                default: break;                                                                       \
                }                                                                                     \
            }                                                                                         \
            if (collapse && Py_UNICODE_ISSPACE(ch)) {                                                 \
                space = m > 0;                                                                        \
                continue;                                                                             \
            }                                                                                         \
            if (space) {                                                                              \
                dst[m++] = ' ';                                                                       \
                space = 0;                                                                            \
            }                                                                                         \
            if (lower && ch >= 'A' && ch <= 'Z') {                                                    \
                ch += 'a' - 'A';                                                                      \
            }                                                                                         \
            highest = ch > highest ? ch : highest;                                                    \
            dst[m++] = (OUT)ch;                                                                       \
        }                                                                                             \
    } while (0)

/* One pass of keys.matching_key over a text: with ``fold``, characters whose class in ``classes``
 * (a byte per code point, keys._MARK_CLASSES) is 1 are dropped and classes 2, 3 and 4 become ',
 * " and -; with ``lower``, ASCII capitals become small letters; with ``collapse``, runs of
 * whitespace (str.isspace) become one space and the ends are stripped, as " ".join(text.split()).
 * A character dropped between two spaces leaves one run, as dropping it first and then splitting
 * does. The loop runs on the text's own storage (one, two or four bytes a character) and writes
 * the same width, so that an ASCII key, the common case, is one tight byte loop. */
static PyObject *fold_key(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer table;
    int fold, lower, collapse;
    if (!PyArg_ParseTuple(args, "Uy*ppp:fold_key", &text, &table, &fold, &lower, &collapse)) {
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const unsigned char *classes = (const unsigned char *)table.buf;
    const Py_ssize_t known = table.len;
    void *buffer = PyMem_Malloc((size_t)kind * (size_t)(n > 0 ? n : 1));
    if (buffer == NULL) {
        PyBuffer_Release(&table);
        return PyErr_NoMemory();
    }
    Py_ssize_t m = 0;
    int space = 0;
    Py_UCS4 highest = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        FOLD_LOOP(Py_UCS1, Py_UCS1);
    } else if (kind == PyUnicode_2BYTE_KIND) {
        FOLD_LOOP(Py_UCS2, Py_UCS2);
    } else {
        FOLD_LOOP(Py_UCS4, Py_UCS4);
    }
    PyBuffer_Release(&table);
    /* the smallest storage for the result, as PyUnicode_FromKindAndData would choose */
    PyObject *result = PyUnicode_New(m, highest);
    if (result != NULL) {
        const int out_kind = PyUnicode_KIND(result);
        void *out = PyUnicode_DATA(result);
        if (out_kind == kind) {
            memcpy(out, buffer, (size_t)kind * (size_t)m);
        } else {
            for (Py_ssize_t i = 0; i < m; i++) {
                PyUnicode_WRITE(out_kind, out, i, PyUnicode_READ(kind, buffer, i));
            }
        }
    }
    PyMem_Free(buffer);
    return result;
}

/* keys.matching_key in one pass for a text whose every character is "simple" (``table``, four
 * bytes per code point, from keys._simple_table()): its key character is a fixed replacement (or it is
 * dropped, or it is whitespace), whatever stands beside it, so the folds, NFKC and casefold reduce
 * to a lookup, and whitespace collapses as in fold_key. None when a character is not simple (the
 * caller then takes the general path). */
#define SIMPLE_NOT UINT32_C(0xFFFFFFFF)
#define SIMPLE_DROP UINT32_C(0xFFFFFFFE)
#define SIMPLE_SPACE UINT32_C(0xFFFFFFFD)

static PyObject *fold_simple(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "Uy*:fold_simple", &text, &table)) {
        return NULL;
    }
    if (table.len % 4 != 0) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "fold_simple: the table holds four bytes per code point");
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const uint32_t *map = (const uint32_t *)table.buf;
    const Py_ssize_t known = table.len / 4;
    Py_UCS4 *out = (Py_UCS4 *)PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n > 0 ? n : 1));
    if (out == NULL) {
        PyBuffer_Release(&table);
        return PyErr_NoMemory();
    }
    Py_ssize_t m = 0;
    int space = 0;
    Py_UCS4 highest = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        const uint32_t to = (Py_ssize_t)ch < known ? map[ch] : SIMPLE_NOT;
        if (to == SIMPLE_NOT) {
            PyMem_Free(out);
            PyBuffer_Release(&table);
            Py_RETURN_NONE;
        }
        if (to == SIMPLE_DROP) {
            continue;
        }
        if (to == SIMPLE_SPACE) {
            space = m > 0;
            continue;
        }
        if (space) {
            out[m++] = ' ';
            space = 0;
        }
        highest = to > highest ? to : highest;
        out[m++] = to;
    }
    PyBuffer_Release(&table);
    PyObject *result = PyUnicode_New(m, highest);
    if (result != NULL) {
        const int out_kind = PyUnicode_KIND(result);
        void *dst = PyUnicode_DATA(result);
        for (Py_ssize_t i = 0; i < m; i++) {
            PyUnicode_WRITE(out_kind, dst, i, out[i]);
        }
    }
    PyMem_Free(out);
    return result;
}

/* Whether every character of ``text`` has a nonzero byte in ``table`` (one byte per code point;
 * characters past its end have none): fixes.nfc's test for text made only of characters that
 * NFC leaves alone wherever they stand (fixes._nfc_stable). */
static PyObject *all_in(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "Uy*:all_in", &text, &table)) {
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const unsigned char *in = (const unsigned char *)table.buf;
    const Py_ssize_t known = table.len;
    int all = 1;
    for (Py_ssize_t i = 0; i < n && all; i++) {
        const Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        all = (Py_ssize_t)ch < known && in[ch];
    }
    PyBuffer_Release(&table);
    return PyBool_FromLong(all);
}

/* -- the content guard ------------------------------------------------------------------------- */

/* verify.novel_words, verify.same_figures and verify.content_preserved on the two keys directly:
 * the words of each key are spans of it (the runs of \\w, as ``tokens`` finds them) with a hash,
 * the kept key's words go in a small open-addressing table, and only the novel words themselves
 * become Python strings. The Python versions build a list and a frozenset of string objects per
 * key instead; this was the largest share of verification. Same rules, same order, same results
 * (the tests compare them on random and edited texts). */

typedef struct {
    Py_ssize_t start;
    Py_ssize_t len;
    uint64_t hash;
    uint64_t letters; /* bit (c mod 64) for each character c: see typo_possible */
    int figure; /* holds a decimal digit: keys.is_number */
} Span;

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    Span *words;
    Py_ssize_t count;
} Words;

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static inline Py_UCS4 at(const Words *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

/* Continues an FNV-1a hash over characters ``start .. start + len`` of ``t`` (no finalisation, so
 * the hash of two words run together continues the first word's hash over the second). */
static inline uint64_t fnv(uint64_t h, const Words *t, Py_ssize_t start, Py_ssize_t len) {
    for (Py_ssize_t i = start; i < start + len; i++) {
        h ^= at(t, i);
        h *= FNV_PRIME;
    }
    return h;
}

static void forget(Words *t) {
    free(t->words);
    t->words = NULL;
}

/* The words of ``text`` as spans, in order. */
static int split_words(PyObject *text, Words *t, const char *name) {
    t->words = NULL;
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "%s: expected str, got %.100s", name, Py_TYPE(text)->tp_name);
        return -1;
    }
    t->n = PyUnicode_GET_LENGTH(text);
    t->kind = PyUnicode_KIND(text);
    t->data = PyUnicode_DATA(text);
    t->count = 0;
    t->words = (Span *)malloc(sizeof(Span) * (size_t)(t->n / 2 + 1)); /* words are separated */
    if (t->words == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const Py_ssize_t n = t->n;
    Span *words = t->words;
    Py_ssize_t count = 0;
    /* the scan on the text's own storage, with the text's kind and data in locals (the stores to
     * the spans could otherwise alias them and force a reload a character) */
#define SPLIT_LOOP(T)                                                                                 \
    do {                                                                                              \
        const T *cp = (const T *)t->data;                                                             \
        Py_ssize_t i = 0;                                                                             \
        while (i < n) {                                                                               \
            while (i < n && !is_word(cp[i])) {                                                        \
                i++;                                                                                  \
            }                                                                                         \
            const Py_ssize_t start = i;                                                               \
            uint64_t h = FNV_OFFSET, letters = 0;                                                     \
            int digit = 0;                                                                            \
            Py_UCS4 ch;                                                                               \
            while (i < n && is_word(ch = cp[i])) {                                                    \
                digit |= ch < 128 ? (ch >= '0' && ch <= '9') : Py_UNICODE_ISDECIMAL(ch);              \
                h ^= ch;                                                                              \
                h *= FNV_PRIME;                                                                       \
                letters |= UINT64_C(1) << (ch & 63);                                                  \
                i++;                                                                                  \
            }                                                                                         \
            if (i > start) {                                                                          \
                Span *w = &words[count++];                                                            \
                w->start = start;                                                                     \
                w->len = i - start;                                                                   \
                w->hash = h;                                                                          \
                w->letters = letters;                                                                 \
                w->figure = digit;                                                                    \
            }                                                                                         \
        }                                                                                             \
    } while (0)
    if (t->kind == PyUnicode_1BYTE_KIND) {
        SPLIT_LOOP(Py_UCS1);
    } else if (t->kind == PyUnicode_2BYTE_KIND) {
        SPLIT_LOOP(Py_UCS2);
    } else {
        SPLIT_LOOP(Py_UCS4);
    }
#undef SPLIT_LOOP
    t->count = count;
    return 0;
}

/* The runs of \\w of ``text`` as strings (keys.words); with ``only_figures``, only those holding a
 * decimal digit (what the regex's \\d matches: Py_UNICODE_ISDECIMAL), the figures the content
 * guard compares (keys.figures). */
static PyObject *tokens(PyObject *text, int only_figures, const char *name) {
    Words t;
    if (split_words(text, &t, name) < 0) {
        return NULL;
    }
    const int ascii = PyUnicode_IS_ASCII(text);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t k = 0; out != NULL && k < t.count; k++) {
        const Span *w = &t.words[k];
        if (only_figures && !w->figure) {
            continue;
        }
        PyObject *word;
        if (ascii) { /* the common case: a plain copy, no search for the widest character */
            word = PyUnicode_New(w->len, 127);
            if (word != NULL) {
                memcpy(PyUnicode_DATA(word), (const char *)t.data + w->start, (size_t)w->len);
            }
        } else {
            word = PyUnicode_Substring(text, w->start, w->start + w->len);
        }
        if (word == NULL || PyList_Append(out, word) < 0) {
            Py_CLEAR(out);
        }
        Py_XDECREF(word);
    }
    forget(&t);
    return out;
}

static PyObject *words(PyObject *self, PyObject *text) { return tokens(text, 0, "words"); }

static PyObject *figures(PyObject *self, PyObject *text) { return tokens(text, 1, "figures"); }

/* splitmix64's finaliser: spreads a figure's FNV-1a hash over all 64 bits before the sum. */
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* keys.figure_print: the sum, modulo 2**64, of mix64(FNV-1a of the code points) over the figures
 * of ``text`` (the words ``figures`` returns). A sum does not depend on order, so a window of
 * keys joined by spaces has the sum of its members' prints, and the same figures give the same
 * print; different figures give different prints but for a 2**-64 chance. A scan for decimal
 * digits (most characters are not), each one widened to its word, as keys.python_figures: no
 * spans and no strings. */
static PyObject *figure_print(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "figure_print: expected str, got %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint64_t total = 0;
    /* in one byte a character, the decimal digits are '0'-'9' (Latin-1 has no other) */
#define IS_DECIMAL(ch) ((Py_UCS4)(ch) < 128 ? (Py_UCS4)(ch) - '0' < 10 : Py_UNICODE_ISDECIMAL(ch))
#define PRINT_LOOP(T)                                                                                  \
    do {                                                                                              \
        const T *cp = (const T *)PyUnicode_DATA(text);                                                \
        Py_ssize_t i = 0;                                                                             \
        for (;;) {                                                                                    \
            while (i < n && !IS_DECIMAL(cp[i])) {                                                     \
                i++;                                                                                  \
            }                                                                                         \
            if (i == n) {                                                                             \
                break;                                                                                \
            }                                                                                         \
            Py_ssize_t start = i; /* a word ends before i, at a character that is not one */         \
            while (start > 0 && is_word(cp[start - 1])) {                                             \
                start--;                                                                              \
            }                                                                                         \
            while (i < n && is_word(cp[i])) {                                                         \
                i++;                                                                                  \
            }                                                                                         \
            uint64_t h = FNV_OFFSET;                                                                  \
            for (Py_ssize_t k = start; k < i; k++) {                                                  \
                h ^= cp[k];                                                                           \
                h *= FNV_PRIME;                                                                       \
            }                                                                                         \
            total += mix64(h);                                                                        \
        }                                                                                             \
    } while (0)
    const int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        PRINT_LOOP(Py_UCS1);
    } else if (kind == PyUnicode_2BYTE_KIND) {
        PRINT_LOOP(Py_UCS2);
    } else {
        PRINT_LOOP(Py_UCS4);
    }
#undef PRINT_LOOP
#undef IS_DECIMAL
    return PyLong_FromUnsignedLongLong(total);
}

/* Whether the characters ``a`` of ``ta`` equal ``b`` of ``tb`` followed by ``c`` of ``tb`` (c may
 * be NULL). */
static int same_text(const Words *ta, const Span *a, const Words *tb, const Span *b, const Span *c) {
    const Py_ssize_t blen = b->len, clen = c == NULL ? 0 : c->len;
    if (a->len != blen + clen) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < blen; i++) {
        if (at(ta, a->start + i) != at(tb, b->start + i)) {
            return 0;
        }
    }
    for (Py_ssize_t i = 0; i < clen; i++) {
        if (at(ta, a->start + blen + i) != at(tb, c->start + i)) {
            return 0;
        }
    }
    return 1;
}

/* The distinct words of one key, for membership tests (word positions; -1 is an empty slot). */
typedef struct {
    const Words *text;
    int32_t *slots;
    size_t mask;
} WordSet;

static int build_set(const Words *t, WordSet *s) {
    size_t cap = 16;
    while (cap < (size_t)t->count * 2) {
        cap <<= 1;
    }
    s->text = t;
    s->mask = cap - 1;
    s->slots = (int32_t *)malloc(sizeof(int32_t) * cap);
    if (s->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(s->slots, 0xff, sizeof(int32_t) * cap);
    for (Py_ssize_t k = 0; k < t->count; k++) {
        const Span *w = &t->words[k];
        size_t i = (size_t)w->hash & s->mask;
        while (s->slots[i] >= 0) {
            const Span *o = &t->words[s->slots[i]];
            if (o->hash == w->hash && same_text(t, o, t, w, NULL)) {
                break;
            }
            i = (i + 1) & s->mask;
        }
        if (s->slots[i] < 0) {
            s->slots[i] = (int32_t)k;
        }
    }
    return 0;
}

/* Whether the set holds the word ``b`` of ``tb``, or ``b`` and ``c`` run together. */
static int contains(const WordSet *s, const Words *tb, const Span *b, const Span *c) {
    const uint64_t h = c == NULL ? b->hash : fnv(b->hash, tb, c->start, c->len);
    for (size_t i = (size_t)h & s->mask; s->slots[i] >= 0; i = (i + 1) & s->mask) {
        const Span *o = &s->text->words[s->slots[i]];
        if (o->hash == h && same_text(s->text, o, tb, b, c)) {
            return 1;
        }
    }
    return 0;
}

/* Optimal string alignment distance (rapidfuzz.distance.OSA) of two words, or ``cutoff + 1`` when
 * it is above ``cutoff``. */
static Py_ssize_t osa(const Words *ta, const Span *a, const Words *tb, const Span *b, Py_ssize_t cutoff) {
    const Py_ssize_t la = a->len, lb = b->len;
    if (la - lb > cutoff || lb - la > cutoff) {
        return cutoff + 1;
    }
    Py_ssize_t small[3][65];
    Py_ssize_t *rows = lb < 65 ? &small[0][0] : (Py_ssize_t *)malloc(sizeof(Py_ssize_t) * 3 * (size_t)(lb + 1));
    if (rows == NULL) {
        return -1;
    }
    const Py_ssize_t width = lb < 65 ? 65 : lb + 1;
    Py_ssize_t *before = rows, *prev = rows + width, *cur = rows + 2 * width;
    for (Py_ssize_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (Py_ssize_t i = 1; i <= la; i++) {
        const Py_UCS4 ai = at(ta, a->start + i - 1);
        cur[0] = i;
        for (Py_ssize_t j = 1; j <= lb; j++) {
            const Py_UCS4 bj = at(tb, b->start + j - 1);
            Py_ssize_t v = prev[j - 1] + (ai != bj);
            if (prev[j] + 1 < v) {
                v = prev[j] + 1;
            }
            if (cur[j - 1] + 1 < v) {
                v = cur[j - 1] + 1;
            }
            if (i > 1 && j > 1 && ai == at(tb, b->start + j - 2) && at(ta, a->start + i - 2) == bj && before[j - 2] + 1 < v) {
                v = before[j - 2] + 1;
            }
            cur[j] = v;
        }
        Py_ssize_t *spare = before;
        before = prev;
        prev = cur;
        cur = spare;
    }
    const Py_ssize_t d = prev[lb];
    if (rows != &small[0][0]) {
        free(rows);
    }
    return d > cutoff ? cutoff + 1 : d;
}

/* Whether two words may be within ``budget`` edits, by the characters they hold: one edit adds
 * or removes at most two characters from the set a word holds (a substitution one of each), so
 * words whose sets differ by more than twice the budget are further apart. The sets are folded to
 * 64 bits, which can only make them look closer: a sound and cheap test before the distance. */
static inline int typo_possible(const Span *a, const Span *b, Py_ssize_t budget) {
    uint64_t x = a->letters ^ b->letters;
    Py_ssize_t differ = 0;
    while (x) {
        x &= x - 1;
        if (++differ > 2 * budget) {
            return 0;
        }
    }
    return 1;
}

/* Whether word ``i`` of ``r``, missing from ``kept``, is an edit novel_words tolerates
 * (verify._tolerated: a kept word split in two or two kept words run together, a last word cut
 * short, a swap of two letters in a three-letter word, a typo of a kept word that is not a
 * figure). -1 on error. */
static int tolerated(const Words *r, Py_ssize_t i, const Words *k, const WordSet *kept, int partial_last) {
    const Span *w = &r->words[i];
    const Py_ssize_t last = r->count - 1;
    if (i < last && contains(kept, r, w, &r->words[i + 1])) {
        return 1;
    }
    if (i > 0 && contains(kept, r, &r->words[i - 1], w)) {
        return 1;
    }
    for (Py_ssize_t q = 0; q + 1 < k->count; q++) { /* two neighbouring kept words run together */
        if (same_text(r, w, k, &k->words[q], &k->words[q + 1])) {
            return 1;
        }
    }
    if (partial_last && i == last) {
        for (Py_ssize_t q = 0; q < k->count; q++) {
            const Span *o = &k->words[q];
            if (o->len >= w->len) {
                Span head = *o;
                head.len = w->len;
                if (same_text(r, w, k, &head, NULL)) {
                    return 1;
                }
            }
        }
    }
    if (w->len == 3) {
        Py_UCS4 x[3] = {at(r, w->start), at(r, w->start + 1), at(r, w->start + 2)};
        for (Py_ssize_t q = 0; q < k->count; q++) {
            const Span *o = &k->words[q];
            if (o->len != 3) {
                continue;
            }
            Py_UCS4 y[3] = {at(k, o->start), at(k, o->start + 1), at(k, o->start + 2)};
            /* differ, and one swap of neighbouring letters turns one into the other */
            if ((x[0] == y[1] && x[1] == y[0] && x[2] == y[2] && x[0] != x[1]) ||
                (x[0] == y[0] && x[1] == y[2] && x[2] == y[1] && x[1] != x[2])) {
                return 1;
            }
        }
    }
    if (w->len >= 4) {
        const Py_ssize_t budget = w->len <= 6 ? 1 : 2;
        for (Py_ssize_t q = 0; q < k->count; q++) {
            const Span *o = &k->words[q];
            if (o->figure || !typo_possible(w, o, budget)) {
                continue;
            }
            const Py_ssize_t d = osa(r, w, k, o, budget);
            if (d < 0) {
                PyErr_NoMemory();
                return -1;
            }
            if (d <= budget) {
                return 1;
            }
        }
    }
    return 0;
}

/* The novel words of ``r`` against ``k`` (at most ``limit`` when it is positive), as a list. */
static PyObject *novel(PyObject *removed, const Words *r, const Words *k, int partial_last, Py_ssize_t limit) {
    WordSet kept;
    if (build_set(k, &kept) < 0) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        free(kept.slots);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < r->count; i++) {
        const Span *w = &r->words[i];
        if (contains(&kept, r, w, NULL)) {
            continue;
        }
        int ok = 0;
        if (!w->figure) {
            ok = tolerated(r, i, k, &kept, partial_last);
            if (ok < 0) {
                Py_DECREF(out);
                out = NULL;
                break;
            }
        }
        if (!ok) {
            PyObject *word = PyUnicode_Substring(removed, w->start, w->start + w->len);
            if (word == NULL || PyList_Append(out, word) < 0) {
                Py_XDECREF(word);
                Py_DECREF(out);
                out = NULL;
                break;
            }
            Py_DECREF(word);
            if (PyList_GET_SIZE(out) == limit) {
                break;
            }
        }
    }
    free(kept.slots);
    return out;
}

/* Whether two keys hold the same figures, counted with multiplicity. */
static int figures_match(const Words *a, const Words *b) {
    Py_ssize_t fa = 0, fb = 0;
    for (Py_ssize_t i = 0; i < a->count; i++) {
        fa += a->words[i].figure;
    }
    for (Py_ssize_t i = 0; i < b->count; i++) {
        fb += b->words[i].figure;
    }
    if (fa != fb) {
        return 0;
    }
    if (fa == 0) {
        return 1;
    }
    char *used = (char *)calloc((size_t)b->count, 1);
    if (used == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int same = 1;
    for (Py_ssize_t i = 0; i < a->count && same; i++) {
        const Span *x = &a->words[i];
        if (!x->figure) {
            continue;
        }
        same = 0;
        for (Py_ssize_t j = 0; j < b->count; j++) {
            const Span *y = &b->words[j];
            if (y->figure && !used[j] && y->hash == x->hash && same_text(a, x, b, y, NULL)) {
                used[j] = 1;
                same = 1;
                break;
            }
        }
    }
    free(used);
    return same;
}

/* The words of two keys; on failure neither is held. */
static int split_both(PyObject *a, PyObject *b, Words *ta, Words *tb, const char *name) {
    if (split_words(a, ta, name) < 0) {
        return -1;
    }
    if (split_words(b, tb, name) < 0) {
        forget(ta);
        return -1;
    }
    return 0;
}

/* Whether ``r`` (the words of ``removed``) may go in favour of ``k`` by the near rule's content
 * guard, figures aside: no novel word, or one inserted word. -1 on error. */
static int preserved(PyObject *removed, const Words *r, const Words *k) {
    PyObject *found = novel(removed, r, k, 0, 2); /* two novel words already fail */
    if (found == NULL) {
        return -1;
    }
    const Py_ssize_t count = PyList_GET_SIZE(found);
    Py_DECREF(found);
    return count == 0 || (count == 1 && r->count == k->count + 1);
}

static PyObject *novel_words(PyObject *self, PyObject *args) {
    PyObject *removed, *kept;
    int partial_last;
    Py_ssize_t limit;
    Words r, k;
    if (!PyArg_ParseTuple(args, "UUpn:novel_words", &removed, &kept, &partial_last, &limit) ||
        split_both(removed, kept, &r, &k, "novel_words") < 0) {
        return NULL;
    }
    PyObject *out = novel(removed, &r, &k, partial_last, limit);
    forget(&r);
    forget(&k);
    return out;
}

static PyObject *same_figures(PyObject *self, PyObject *args) {
    PyObject *a, *b;
    Words ta, tb;
    if (!PyArg_ParseTuple(args, "UU:same_figures", &a, &b) || split_both(a, b, &ta, &tb, "same_figures") < 0) {
        return NULL;
    }
    const int same = figures_match(&ta, &tb);
    forget(&ta);
    forget(&tb);
    return same < 0 ? NULL : PyBool_FromLong(same);
}

/* verify.content_preserved: the same figures, and no novel word but at most one inserted word. */
static PyObject *content_preserved(PyObject *self, PyObject *args) {
    PyObject *removed, *kept;
    Words r, k;
    if (!PyArg_ParseTuple(args, "UU:content_preserved", &removed, &kept) ||
        split_both(removed, kept, &r, &k, "content_preserved") < 0) {
        return NULL;
    }
    int result = figures_match(&r, &k);
    if (result > 0) {
        result = preserved(removed, &r, &k);
    }
    forget(&r);
    forget(&k);
    return result < 0 ? NULL : PyBool_FromLong(result);
}

/* content_preserved(a, b) and content_preserved(b, a) at once: each key split once, the figures
 * (a symmetric test) compared once. */
static PyObject *content_preserved_both(PyObject *self, PyObject *args) {
    PyObject *a, *b;
    Words ta, tb;
    if (!PyArg_ParseTuple(args, "UU:content_preserved_both", &a, &b) ||
        split_both(a, b, &ta, &tb, "content_preserved_both") < 0) {
        return NULL;
    }
    int ab = 0, ba = 0;
    const int same = figures_match(&ta, &tb);
    if (same > 0) {
        ab = preserved(a, &ta, &tb);
        ba = ab < 0 ? 0 : preserved(b, &tb, &ta);
    }
    forget(&ta);
    forget(&tb);
    if (same < 0 || ab < 0 || ba < 0) {
        return NULL;
    }
    return Py_BuildValue("(OO)", ab ? Py_True : Py_False, ba ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"suspect", suspect, METH_O, "suspect(text) -> whether text may hold mojibake (fixes._SUSPECT, on characters)."},
    {"words", words, METH_O, "words(text) -> the runs of \\w in text, in order (as re.findall(r'\\w+'))."},
    {"fold_key", fold_key, METH_VARARGS,
     "fold_key(text, classes, fold, lower, collapse) -> text with marks folded, ASCII lowered and "
     "whitespace collapsed, as asked (keys.matching_key)."},
    {"all_in", all_in, METH_VARARGS,
     "all_in(text, table) -> whether every character of text has a nonzero byte in table (fixes.nfc)."},
    {"fold_simple", fold_simple, METH_VARARGS,
     "fold_simple(text, table) -> the matching key of a text of simple characters (keys._simple_table), "
     "else None."},
    {"novel_words", novel_words, METH_VARARGS,
     "novel_words(removed, kept, partial_last, limit) -> the words of removed that kept lacks, edits "
     "tolerated (verify.novel_words; limit <= 0: all)."},
    {"same_figures", same_figures, METH_VARARGS,
     "same_figures(a, b) -> whether a and b hold the same figures, counted with multiplicity."},
    {"content_preserved_both", content_preserved_both, METH_VARARGS,
     "content_preserved_both(a, b) -> (content_preserved(a, b), content_preserved(b, a))."},
    {"content_preserved", content_preserved, METH_VARARGS,
     "content_preserved(removed, kept) -> the content guard for near copies (verify.content_preserved)."},
    {"figures", figures, METH_O, "figures(text) -> the runs of \\w in text that hold a decimal digit, in order."},
    {"merge_windows", merge_windows, METH_VARARGS,
     "merge_windows(para_key i32, key_len i32, prints u64, first, end, q, gid, min_part, shortest, longest, own_print) "
     "-> [(paragraphs, keys)]: the merged-line windows around q that pass the length and figure tests (plan._windows)."},
    {"whitespace_signs", whitespace_signs, METH_O,
     "whitespace_signs(text) -> bits: a tab, a carriage return, two spaces, a space or tab ending a line, blank lines "
     "(fixes.whitespace_signs)."},
    {"figure_print", figure_print, METH_O,
     "figure_print(text) -> the sum mod 2**64 of a 64-bit hash of each of its figures (keys.figure_print)."},
    {"signatures", signatures, METH_VARARGS,
     "signatures(keys, multipliers u64, a u32, b u32, out u32): fill out (keys x permutations) with "
     "the MinHash values of each key (a str)."},
    {"band_values", band_hashes, METH_VARARGS,
     "band_values(signatures u32, rows, mix u64[4], out u32): one hash of each band of each signature "
     "(lsh.band_values)."},
    {"agreement", agreement, METH_VARARGS,
     "agreement(sketch u8 (rows x width), width, pairs i64 (n x 2), out f64 (n)): the share of equal "
     "bytes of each pair's rows."},
    {"gate", gate, METH_VARARGS,
     "gate(sketch u8, width, pairs i64 (n x 2), key_len i32, min_chars, share, long_chars, flags_out u8) -> None: "
     "bit 1 passes the candidate gate, bit 2 has a long key."},
    {"add_bands", add_bands, METH_VARARGS,
     "add_bands(values [u32], ids [i32], size, new_values u32 (n x bands), new_ids i32, first_members, width) "
     "-> the sorted unique pairs (earlier, new), as a bytearray of int64 (the new keys merged into the table in "
     "place)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dedup._kernels",
    "dedup's compiled inner loops (signatures, sketch agreement, LSH band merge, key folds, word tokens, content guard).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
