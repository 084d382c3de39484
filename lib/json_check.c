/* A recursive-descent JSON recogniser over a bounded buffer; see json_check.h. */
#include "json_check.h"

struct cursor {
	const char *s;
	size_t len, pos;
};

static int peek(const struct cursor *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static void skip_ws(struct cursor *c)
{
	while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t'))
		c->pos++; /* no \n or \r: a record is one line */
}

static int is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int hex_value(int ch)
{
	return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

/* The four hex digits after "\\u" at the cursor; -1 if they are not four hex digits. */
static long escape_code(struct cursor *c)
{
	long v = 0;
	for (int i = 0; i < 4; i++, c->pos++) {
		if (!is_hex(peek(c)))
			return -1;
		v = v * 16 + hex_value(peek(c));
	}
	return v;
}

/*
 * A \uXXXX escape (the "\u" consumed): not U+0000, and a UTF-16 surrogate
 * only as a high-low pair, as the host's parser demands; a guest's record
 * that the host would refuse is refused here, where the guest hears of it.
 */
static int unicode_escape(struct cursor *c)
{
	long v = escape_code(c);
	if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff))
		return -1;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (peek(c) != '\\')
			return -1;
		c->pos++;
		if (peek(c) != 'u')
			return -1;
		c->pos++;
		long low = escape_code(c);
		if (low < 0xdc00 || low > 0xdfff)
			return -1;
	}
	return 0;
}

/* One UTF-8 sequence whose lead byte is at the cursor (>= 0x80): well formed, shortest, no surrogate. */
static int utf8_sequence(struct cursor *c)
{
	int lead = peek(c), n, lo = 0x80, hi = 0xbf;
	if (lead >= 0xc2 && lead <= 0xdf)
		n = 1;
	else if (lead >= 0xe0 && lead <= 0xef) {
		n = 2;
		if (lead == 0xe0)
			lo = 0xa0; /* no overlong form */
		if (lead == 0xed)
			hi = 0x9f; /* no surrogate */
	} else if (lead >= 0xf0 && lead <= 0xf4) {
		n = 3;
		if (lead == 0xf0)
			lo = 0x90;
		if (lead == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return -1;
	}
	c->pos++;
	for (int i = 0; i < n; i++, c->pos++) {
		int b = peek(c);
		if (b < (i ? 0x80 : lo) || b > (i ? 0xbf : hi))
			return -1;
	}
	return 0;
}

/* A string; on success start and end delimit its raw contents. */
static int string(struct cursor *c, size_t *start, size_t *end)
{
	if (peek(c) != '"')
		return -1;
	c->pos++;
	*start = c->pos;
	for (;;) {
		int ch = peek(c);
		if (ch < 0x20) /* end of buffer (-1) or a raw control character */
			return -1;
		if (ch >= 0x80) {
			if (utf8_sequence(c))
				return -1;
			continue;
		}
		c->pos++;
		if (ch == '"') {
			*end = c->pos - 1;
			return 0;
		}
		if (ch == '\\') {
			int e = peek(c);
			c->pos++;
			if (e == 'u') {
				if (unicode_escape(c))
					return -1;
			} else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
				     e == 'r' || e == 't')) {
				return -1;
			}
		}
	}
}

static int digits(struct cursor *c)
{
	int n = 0;
	while (peek(c) >= '0' && peek(c) <= '9') {
		c->pos++;
		n++;
	}
	return n;
}

static int number(struct cursor *c)
{
	if (peek(c) == '-')
		c->pos++;
	if (peek(c) == '0')
		c->pos++;
	else if (!digits(c))
		return -1;
	if (peek(c) == '.') {
		c->pos++;
		if (!digits(c))
			return -1;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->pos++;
		if (peek(c) == '+' || peek(c) == '-')
			c->pos++;
		if (!digits(c))
			return -1;
	}
	return 0;
}

static int literal(struct cursor *c, const char *word)
{
	for (; *word; word++, c->pos++)
		if (peek(c) != *word)
			return -1;
	return 0;
}

static int value(struct cursor *c, int depth, const char *const *reserved);

static int key_is_reserved(const struct cursor *c, size_t start, size_t end, const char *const *reserved)
{
	/*
	 * A top-level key written with escapes could spell a reserved name
	 * ("pat\u0068"): such keys are refused outright rather than decoded.
	 */
	if (reserved && *reserved)
		for (size_t i = start; i < end; i++)
			if (c->s[i] == '\\')
				return 1;
	for (; reserved && *reserved; reserved++) {
		size_t i = 0;
		const char *k = *reserved;
		while (start + i < end && k[i] && c->s[start + i] == k[i])
			i++;
		if (start + i == end && !k[i])
			return 1;
	}
	return 0;
}

static int object(struct cursor *c, int depth, const char *const *reserved)
{
	if (depth > JSON_CHECK_MAX_DEPTH)
		return -1;
	c->pos++; /* '{' */
	skip_ws(c);
	if (peek(c) == '}') {
		c->pos++;
		return 0;
	}
	for (;;) {
		size_t ks, ke;
		skip_ws(c);
		if (string(c, &ks, &ke))
			return -1;
		if (depth == 1 && key_is_reserved(c, ks, ke, reserved))
			return -1;
		skip_ws(c);
		if (peek(c) != ':')
			return -1;
		c->pos++;
		if (value(c, depth, 0))
			return -1;
		skip_ws(c);
		if (peek(c) == ',') {
			c->pos++;
			continue;
		}
		if (peek(c) == '}') {
			c->pos++;
			return 0;
		}
		return -1;
	}
}

static int array(struct cursor *c, int depth)
{
	if (depth > JSON_CHECK_MAX_DEPTH)
		return -1;
	c->pos++; /* '[' */
	skip_ws(c);
	if (peek(c) == ']') {
		c->pos++;
		return 0;
	}
	for (;;) {
		if (value(c, depth, 0))
			return -1;
		skip_ws(c);
		if (peek(c) == ',') {
			c->pos++;
			continue;
		}
		if (peek(c) == ']') {
			c->pos++;
			return 0;
		}
		return -1;
	}
}

static int value(struct cursor *c, int depth, const char *const *reserved)
{
	size_t s, e;
	skip_ws(c);
	switch (peek(c)) {
	case '{':
		return object(c, depth + 1, reserved);
	case '[':
		return array(c, depth + 1);
	case '"':
		return string(c, &s, &e);
	case 't':
		return literal(c, "true");
	case 'f':
		return literal(c, "false");
	case 'n':
		return literal(c, "null");
	default:
		return number(c);
	}
}

int json_check_object(const char *text, size_t len, const char *const *reserved_keys)
{
	struct cursor c = { text, len, 0 };
	if (len < 2 || text[0] != '{' || text[len - 1] != '}')
		return -1;
	if (object(&c, 1, reserved_keys))
		return -1;
	return c.pos == len ? 0 : -1;
}
