/*
 * JSON object writer for records (contract in jsonw.h).  Freestanding: the
 * VMM and the guests build every record with it, and the host's unit tests
 * parse its output back with a real JSON parser.
 *
 * w->overflow is the one sticky error flag: it is set when the buffer is
 * too small and also when the calls are out of order (a member after the
 * object was closed, an obj_end with no obj_begin open), because either way
 * the bytes in the buffer are not the record the caller meant.
 */
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"

/* Appends n bytes, keeping room for the closing NUL, or sets overflow. */
static void emit(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (w->cap == 0 || n > w->cap - 1 - w->len) {
		w->overflow = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->buf[w->len + i] = s[i];
	w->len += n;
}

static void emit_char(struct jsonw *w, char c)
{
	emit(w, &c, 1);
}

static void emit_cstr(struct jsonw *w, const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	emit(w, s, n);
}

/*
 * A JSON string: quote, backslash and the control characters escaped;
 * bytes from 0x80 up pass through untouched (the caller's UTF-8 stays
 * UTF-8).
 */
static void emit_string(struct jsonw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	emit_char(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': emit(w, "\\\"", 2); break;
		case '\\': emit(w, "\\\\", 2); break;
		case '\n': emit(w, "\\n", 2); break;
		case '\r': emit(w, "\\r", 2); break;
		case '\t': emit(w, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
				emit(w, u, sizeof u);
			} else {
				emit_char(w, (char)c);
			}
		}
	}
	emit_char(w, '"');
}

/* `,"key":` — the separator and the key of the next member; key NULL: the next array element. */
static void member(struct jsonw *w, const char *key)
{
	if (w->depth <= 0 || ((w->arrays >> w->depth) & 1) != (key == NULL))
		w->overflow = 1;
	if (w->need_comma)
		emit_char(w, ',');
	w->need_comma = 1;
	if (!key)
		return;
	size_t n = 0;
	while (key[n] != '\0')
		n++;
	emit_string(w, key, n);
	emit_char(w, ':');
	w->need_comma = 1;
}

static void emit_u64(struct jsonw *w, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	emit(w, d + sizeof d - n, n);
}

void jsonw_begin(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->need_comma = 0;
	w->depth = 1;
	w->arrays = 0;
	w->overflow = 0;
	emit_char(w, '{');
}

void jsonw_str(struct jsonw *w, const char *key, const char *val)
{
	size_t n = 0;

	while (val[n] != '\0')
		n++;
	jsonw_strn(w, key, val, n);
}

void jsonw_strn(struct jsonw *w, const char *key, const char *val, size_t len)
{
	member(w, key);
	emit_string(w, val, len);
}

void jsonw_u64(struct jsonw *w, const char *key, uint64_t v)
{
	member(w, key);
	emit_u64(w, v);
}

void jsonw_i64(struct jsonw *w, const char *key, int64_t v)
{
	member(w, key);
	if (v < 0) {
		emit_char(w, '-');
		emit_u64(w, -(uint64_t)v);
	} else {
		emit_u64(w, (uint64_t)v);
	}
}

void jsonw_hex(struct jsonw *w, const char *key, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char d[16];
	size_t n = 0;

	member(w, key);
	do {
		d[sizeof d - 1 - n++] = hex[v & 0xf];
		v >>= 4;
	} while (v != 0);
	emit(w, "\"0x", 3);
	emit(w, d + sizeof d - n, n);
	emit_char(w, '"');
}

void jsonw_bool(struct jsonw *w, const char *key, int v)
{
	member(w, key);
	emit_cstr(w, v ? "true" : "false");
}

static void open_nested(struct jsonw *w, const char *key, char c, int array)
{
	member(w, key);
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->overflow = 1;
		return;
	}
	emit_char(w, c);
	w->depth++;
	w->arrays = array ? w->arrays | (1u << w->depth) : w->arrays & ~(1u << w->depth);
	w->need_comma = 0;
}

void jsonw_obj_begin(struct jsonw *w, const char *key)
{
	open_nested(w, key, '{', 0);
}

static void close_nested(struct jsonw *w, char c)
{
	/* Depth 1 is the record itself: only jsonw_end() closes that; an array closes with ']' alone. */
	if (w->depth <= 1 || ((w->arrays >> w->depth) & 1) != (c == ']')) {
		w->overflow = 1;
		return;
	}
	emit_char(w, c);
	w->depth--;
	w->need_comma = 1;
}

void jsonw_obj_end(struct jsonw *w)
{
	close_nested(w, '}');
}

void jsonw_arr_begin(struct jsonw *w, const char *key)
{
	open_nested(w, key, '[', 1);
}

void jsonw_arr_end(struct jsonw *w)
{
	close_nested(w, ']');
}

void jsonw_raw_members(struct jsonw *w, const char *members, size_t len)
{
	if (len == 0)
		return;
	if (w->depth <= 0)
		w->overflow = 1;
	if (w->need_comma)
		emit_char(w, ',');
	emit(w, members, len);
	w->need_comma = 1;
}

/*
 * Closes every object still open, so a caller that forgot an obj_end still
 * gets well-formed JSON whose members are all the ones it wrote.
 */
const char *jsonw_end(struct jsonw *w)
{
	if (w->depth <= 0)
		w->overflow = 1;
	while (w->depth > 0) {
		emit_char(w, (w->arrays >> w->depth) & 1 ? ']' : '}');
		w->depth--;
	}
	w->need_comma = 0;
	if (w->overflow || w->buf == NULL)
		return NULL;
	w->buf[w->len] = '\0';
	return w->buf;
}
