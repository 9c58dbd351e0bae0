/* HPyUnicode_FromFormat(V) and HPyErr_Format: printf-style str building.
 *
 * Written against the public HPy API only: the same file is compiled into
 * CPython-ABI and universal-ABI extensions. The result is assembled as UTF-8
 * and decoded once at the end.
 *
 * Units: %% %c [int]  %d %i [int]  %u [unsigned]  %x [int, printed unsigned]
 *   with l / ll / z length modifiers on d i u x (long, long long,
 *   HPy_ssize_t or size_t); %s [const char *, UTF-8, invalid bytes become
 *   U+FFFD]; %p [void *, always "0x" + lowercase hex];
 *   %U [HPy str]  %S %R %A [HPy: str(), repr(), ascii() of it]
 *   %V [HPy str or HPy_NULL, then const char * used when it is HPy_NULL].
 * Flags: %[0][width][.precision]unit. Width pads on the left to that many
 * characters; '0' pads numbers with zeros after the sign. Precision is the
 * minimum number of digits for numbers, the maximum number of bytes for a
 * C string and of characters for a Python string.
 * As in HPy 0.9, '0' on string units and any flag on %c and %p raise
 * SystemError instead of being ignored as CPython does.
 */
#include "hpy.h"

#include <stdio.h>
#include <string.h>

/* ---- growable UTF-8 buffer ------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    int failed;        /* an allocation failed: report MemoryError at the end */
    int needs_careful; /* holds NUL or surrogates: decode with surrogatepass */
    char small[512];
} Writer;

static void
writer_init(Writer *w)
{
    w->buf = w->small;
    w->len = 0;
    w->cap = sizeof(w->small);
    w->failed = 0;
    w->needs_careful = 0;
}

static void
writer_free(Writer *w)
{
    if (w->buf != w->small)
        free(w->buf);
}

/* Makes room for `extra` more bytes plus a terminating NUL. */
static int
writer_reserve(Writer *w, size_t extra)
{
    size_t need, cap;
    char *bigger;
    if (w->failed)
        return 0;
    if (extra > (size_t)HPY_SSIZE_T_MAX - w->len - 1) {
        w->failed = 1;
        return 0;
    }
    need = w->len + extra + 1;
    if (need <= w->cap)
        return 1;
    cap = w->cap;
    while (cap < need)
        cap = cap > ((size_t)HPY_SSIZE_T_MAX >> 1) ? need : cap * 2;
    if (w->buf == w->small) {
        bigger = (char *)malloc(cap);
        if (bigger != NULL)
            memcpy(bigger, w->buf, w->len);
    } else {
        bigger = (char *)realloc(w->buf, cap);
    }
    if (bigger == NULL) {
        w->failed = 1;
        return 0;
    }
    w->buf = bigger;
    w->cap = cap;
    return 1;
}

static int
writer_write(Writer *w, const char *s, size_t n)
{
    if (!writer_reserve(w, n))
        return 0;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return 1;
}

static int
writer_fill(Writer *w, char c, size_t n)
{
    if (n == 0)
        return 1;
    if (!writer_reserve(w, n))
        return 0;
    memset(w->buf + w->len, c, n);
    w->len += n;
    return 1;
}

/* ---- UTF-8 ----------------------------------------------------------------- */

static size_t
encode_utf8(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The UTF-8 sequence at s[0..n): its length, with *valid set to 1 if it is
 * well-formed; otherwise the length of its maximal subpart (at least 1): the
 * bytes that began a valid sequence before one went wrong. Replacing each
 * maximal subpart by one U+FFFD is what Unicode recommends and what Python's
 * own decoder (so CPython's %s) does. */
static size_t
utf8_sequence_length(const unsigned char *s, size_t n, int *valid)
{
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xBF;
    *valid = 0;
    if (s[0] < 0x80) {
        *valid = 1;
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        if (s[0] == 0xE0) lo = 0xA0;
        if (s[0] == 0xED) hi = 0x9F;  /* no surrogates */
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        if (s[0] == 0xF0) lo = 0x90;
        if (s[0] == 0xF4) hi = 0x8F;
    } else
        return 1;
    if (n < 2 || s[1] < lo || s[1] > hi)
        return 1;
    for (i = 2; i < len; i++)
        if (i >= n || s[i] < 0x80 || s[i] > 0xBF)
            return i;
    *valid = 1;
    return len;
}

/* Copies s[0..n) to `w` (if not NULL) replacing ill-formed bytes with U+FFFD;
 * returns the number of characters. */
static size_t
copy_sanitized(Writer *w, const char *s, size_t n)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < n) {
        int valid;
        size_t len = utf8_sequence_length(u + i, n - i, &valid);
        if (w != NULL)
            writer_write(w, valid ? s + i : replacement, valid ? len : 3);
        i += len;
        chars++;
    }
    return chars;
}

/* Writes valid UTF-8 `s` as a field: at most `precision` characters (if >= 0),
 * right-aligned in `width` characters. */
static void
write_text_field(Writer *w, const char *s, size_t n, HPy_ssize_t width,
                 HPy_ssize_t precision)
{
    size_t cut = 0, chars = 0;
    while (cut < n && (precision < 0 || chars < (size_t)precision)) {
        cut++;
        while (cut < n && (((unsigned char)s[cut]) & 0xC0) == 0x80)
            cut++;
        chars++;
    }
    if (width > 0 && (size_t)width > chars)
        writer_fill(w, ' ', (size_t)width - chars);
    writer_write(w, s, cut);
    if (memchr(s, '\0', cut) != NULL)
        w->needs_careful = 1;
}

/* Writes a C string field; with a precision, reads at most that many bytes:
 * the string need not be NUL-terminated within them (as in CPython). */
static void
write_c_string_field(Writer *w, const char *s, HPy_ssize_t width, HPy_ssize_t precision)
{
    size_t n = 0, chars;
    if (precision < 0)
        n = strlen(s);
    else
        while (n < (size_t)precision && s[n] != '\0')
            n++;
    chars = copy_sanitized(NULL, s, n);
    if (width > 0 && (size_t)width > chars)
        writer_fill(w, ' ', (size_t)width - chars);
    copy_sanitized(w, s, n);
}

/* ---- numbers --------------------------------------------------------------- */

static void
write_number(Writer *w, int negative, unsigned long long magnitude, unsigned base,
             int zero_pad, HPy_ssize_t width, HPy_ssize_t precision)
{
    char digits[64];
    size_t n_digits = 0, body, pad = 0, precision_zeros = 0;
    do {
        digits[sizeof(digits) - 1 - n_digits] = "0123456789abcdef"[magnitude % base];
        magnitude /= base;
        n_digits++;
    } while (magnitude != 0);
    if (precision > 0 && (size_t)precision > n_digits)
        precision_zeros = (size_t)precision - n_digits;
    body = (negative ? 1 : 0) + precision_zeros + n_digits;
    if (width > 0 && (size_t)width > body)
        pad = (size_t)width - body;
    if (!zero_pad)
        writer_fill(w, ' ', pad);
    if (negative)
        writer_write(w, "-", 1);
    if (zero_pad)
        writer_fill(w, '0', pad);
    writer_fill(w, '0', precision_zeros);
    writer_write(w, digits + sizeof(digits) - n_digits, n_digits);
}

/* ---- the format loop ------------------------------------------------------- */

typedef enum { LEN_NONE, LEN_L, LEN_LL, LEN_Z } LengthModifier;

static void
unit_error(HPyContext *ctx, HPy exc_type, const char *what, char unit)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "formatting unit '%%%c' %s", unit, what);
    HPyErr_SetString(ctx, exc_type, msg);
}

/* Parses a decimal flag value; -1 with ValueError "<what> too big" on overflow. */
static int
parse_decimal(HPyContext *ctx, const char **pp, HPy_ssize_t *out, const char *too_big)
{
    HPy_ssize_t v = 0;
    while (**pp >= '0' && **pp <= '9') {
        int digit_value = **pp - '0';
        if (v > (HPY_SSIZE_T_MAX - digit_value) / 10) {
            HPyErr_SetString(ctx, ctx->h_ValueError, too_big);
            return -1;
        }
        v = v * 10 + digit_value;
        (*pp)++;
    }
    *out = v;
    return 0;
}

/* Formats one Python object unit (%U %S %R %A, and %V with a handle). */
static int
write_object(HPyContext *ctx, Writer *w, char unit, HPy obj, HPy_ssize_t width,
             HPy_ssize_t precision)
{
    HPy text;
    const char *utf8;
    HPy_ssize_t size = 0;

    if (HPy_IsNull(obj)) {
        char msg[80];
        snprintf(msg, sizeof(msg),
                 "HPy_NULL passed as value for formatting unit '%%%c'", unit);
        HPyErr_SetString(ctx, ctx->h_SystemError, msg);
        return 0;
    }
    switch (unit) {
    case 'S': text = HPy_Str(ctx, obj); break;
    case 'R': text = HPy_Repr(ctx, obj); break;
    case 'A': text = HPy_ASCII(ctx, obj); break;
    default: text = HPy_Dup(ctx, obj); break;
    }
    if (HPy_IsNull(text))
        return 0;
    utf8 = HPyUnicode_AsUTF8AndSize(ctx, text, &size);
    if (utf8 != NULL)
        write_text_field(w, utf8, (size_t)size, width, precision);
    HPy_Close(ctx, text);
    return utf8 != NULL;
}

static int
format_all(HPyContext *ctx, Writer *w, const char *fmt, va_list *ap)
{
    const char *p;

    for (p = fmt; *p != '\0'; p++) {
        if ((unsigned char)*p >= 0x80) {
            char msg[96];
            snprintf(msg, sizeof(msg),
                     "expected an ASCII-encoded format string, got a non-ASCII byte: 0x%02x",
                     (unsigned char)*p);
            HPyErr_SetString(ctx, ctx->h_ValueError, msg);
            return 0;
        }
    }

    p = fmt;
    while (*p != '\0') {
        const char *literal = p;
        int zero_pad = 0;
        HPy_ssize_t width = -1, precision = -1;
        LengthModifier length = LEN_NONE;
        char unit;

        while (*p != '\0' && *p != '%')
            p++;
        writer_write(w, literal, (size_t)(p - literal));
        if (*p == '\0')
            break;
        p++;  /* the '%' */
        if (*p == '%') {
            writer_write(w, "%", 1);
            p++;
            continue;
        }
        while (*p == '0') {
            zero_pad = 1;
            p++;
        }
        if (*p >= '1' && *p <= '9' && parse_decimal(ctx, &p, &width, "width too big") < 0)
            return 0;
        if (*p == '.') {
            p++;
            if (parse_decimal(ctx, &p, &precision, "precision too big") < 0)
                return 0;
        }
        if (p[0] == 'l' && p[1] == 'l') {
            length = LEN_LL;
            p += 2;
        } else if (*p == 'l') {
            length = LEN_L;
            p++;
        } else if (*p == 'z') {
            length = LEN_Z;
            p++;
        }
        unit = *p;
        if (unit == '\0' || (length != LEN_NONE && strchr("diux", unit) == NULL)) {
            HPyErr_SetString(ctx, ctx->h_SystemError, "invalid format string");
            return 0;
        }
        p++;

        switch (unit) {
        case 'd': case 'i': {
            long long v;
            switch (length) {
            case LEN_L: v = va_arg(*ap, long); break;
            case LEN_LL: v = va_arg(*ap, long long); break;
            case LEN_Z: v = (long long)va_arg(*ap, HPy_ssize_t); break;
            default: v = va_arg(*ap, int); break;
            }
            write_number(w, v < 0, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
                         10, zero_pad, width, precision);
            break;
        }
        case 'u': case 'x': {
            unsigned long long v;
            switch (length) {
            case LEN_L: v = va_arg(*ap, unsigned long); break;
            case LEN_LL: v = va_arg(*ap, unsigned long long); break;
            case LEN_Z: v = va_arg(*ap, size_t); break;
            default: v = va_arg(*ap, unsigned int); break;
            }
            write_number(w, 0, v, unit == 'x' ? 16 : 10, zero_pad, width, precision);
            break;
        }
        case 'c': case 'p': {
            if (zero_pad) {
                unit_error(ctx, ctx->h_SystemError, "does not support 0-padding", unit);
                return 0;
            }
            if (width >= 0 || precision >= 0) {
                unit_error(ctx, ctx->h_SystemError, "does not support width nor precision", unit);
                return 0;
            }
            if (unit == 'c') {
                int cp = va_arg(*ap, int);
                char utf8[4];
                if (cp < 0 || cp > 0x10FFFF) {
                    HPyErr_SetString(ctx, ctx->h_OverflowError,
                                     "character argument not in range(0x110000)");
                    return 0;
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                    w->needs_careful = 1;
                writer_write(w, utf8, encode_utf8((unsigned long)cp, utf8));
            } else {
                uintptr_t address = (uintptr_t)va_arg(*ap, void *);
                writer_write(w, "0x", 2);
                write_number(w, 0, (unsigned long long)address, 16, 0, -1, -1);
            }
            break;
        }
        case 's': case 'V': case 'U': case 'S': case 'R': case 'A': {
            HPy obj = HPy_NULL;
            const char *c_string = NULL;
            if (zero_pad) {
                unit_error(ctx, ctx->h_SystemError, "does not support 0-padding", unit);
                return 0;
            }
            if (unit == 's') {
                c_string = va_arg(*ap, const char *);
                if (c_string == NULL) {
                    HPyErr_SetString(ctx, ctx->h_SystemError,
                                     "null c string passed as value for formatting unit '%s'");
                    return 0;
                }
                write_c_string_field(w, c_string, width, precision);
                break;
            }
            obj = va_arg(*ap, HPy);
            if (unit == 'V') {
                c_string = va_arg(*ap, const char *);
                if (HPy_IsNull(obj)) {
                    if (c_string == NULL) {
                        HPyErr_SetString(ctx, ctx->h_SystemError,
                                         "HPy_NULL and a null c string passed as values "
                                         "for formatting unit '%V'");
                        return 0;
                    }
                    write_c_string_field(w, c_string, width, precision);
                    break;
                }
            }
            if (!write_object(ctx, w, unit, obj, width, precision))
                return 0;
            break;
        }
        default:
            HPyErr_SetString(ctx, ctx->h_SystemError, "invalid format string");
            return 0;
        }
        if (w->failed)
            break;
    }
    return 1;
}

HPyAPI_HELPER HPy
HPyUnicode_FromFormatV(HPyContext *ctx, const char *fmt, va_list vargs)
{
    Writer w;
    va_list ap;
    int ok;
    HPy result = HPy_NULL;

    writer_init(&w);
    va_copy(ap, vargs);
    ok = format_all(ctx, &w, fmt, &ap);
    va_end(ap);
    if (ok && w.failed) {
        HPyErr_NoMemory(ctx);
        ok = 0;
    }
    if (ok) {
        w.buf[w.len] = '\0';
        if (!w.needs_careful) {
            result = HPyUnicode_FromString(ctx, w.buf);
        } else {
            HPy bytes = HPyBytes_FromStringAndSize(ctx, w.buf, (HPy_ssize_t)w.len);
            if (!HPy_IsNull(bytes)) {
                result = HPyUnicode_FromEncodedObject(ctx, bytes, "utf-8", "surrogatepass");
                HPy_Close(ctx, bytes);
            }
        }
    }
    writer_free(&w);
    return result;
}

HPyAPI_HELPER HPy
HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...)
{
    va_list ap;
    HPy result;
    va_start(ap, fmt);
    result = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    return result;
}

HPyAPI_HELPER HPy
HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...)
{
    va_list ap;
    HPy message;
    va_start(ap, fmt);
    message = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    if (!HPy_IsNull(message)) {
        HPyErr_SetObject(ctx, h_type, message);
        HPy_Close(ctx, message);
    }
    return HPy_NULL;
}
