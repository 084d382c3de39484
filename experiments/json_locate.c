/*
 * Finding the line of a JSON value by walking the text once more.
 *
 * The text has already been accepted by jansson, so this tokenizer only has
 * to be right about valid JSON; on anything else it stops and reports the
 * deepest line it reached instead of reading past the end.
 */
#include <string.h>

#include "json_locate.h"

struct cursor {
	const char *p;
	const char *end;
	int line;
};

static int peek(const struct cursor *c)
{
	return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Characters that end a number or a literal (true, false, null). */
static int ends_scalar(int ch)
{
	return is_space(ch) || ch == ',' || ch == ':' || ch == ']' || ch == '}' || ch == '[' ||
	       ch == '{' || ch == '"';
}

static void skip_space(struct cursor *c)
{
	while (is_space(peek(c))) {
		if (*c->p == '\n')
			c->line++;
		c->p++;
	}
}

static int hex4(struct cursor *c, unsigned *out)
{
	unsigned v = 0;

	if (c->end - c->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char h = *c->p++;

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned)(h - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int utf8(unsigned cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * One character of a string body, decoded to the UTF-8 bytes jansson would
 * give for it, so keys compare equal however the file escaped them.
 */
static int string_char(struct cursor *c, unsigned char out[4])
{
	unsigned char ch = (unsigned char)*c->p++;
	unsigned cp, lo;
	const char *save;

	if (ch != '\\') {
		if (ch == '\n')
			c->line++;
		out[0] = ch;
		return 1;
	}
	if (c->p >= c->end)
		return -1;
	switch (*c->p++) {
	case '"': out[0] = '"'; return 1;
	case '\\': out[0] = '\\'; return 1;
	case '/': out[0] = '/'; return 1;
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: return -1;
	}
	if (hex4(c, &cp))
		return -1;
	/* A high surrogate followed by a low one is one character. */
	if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
		save = c->p;
		c->p += 2;
		if (!hex4(c, &lo) && lo >= 0xdc00 && lo < 0xe000)
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		else
			c->p = save;
	}
	return utf8(cp, out);
}

/* Consume a string; when key is not NULL, *equal says whether it spelled key. */
static int read_string(struct cursor *c, const char *key, int *equal)
{
	size_t klen = key ? strlen(key) : 0;
	size_t at = 0;
	int same = 1;

	if (peek(c) != '"')
		return -1;
	c->p++;
	for (;;) {
		unsigned char bytes[4];
		int n;

		if (c->p >= c->end)
			return -1;
		if (*c->p == '"') {
			c->p++;
			break;
		}
		n = string_char(c, bytes);
		if (n < 0)
			return -1;
		if (key && same) {
			if (at + (size_t)n > klen || memcmp(key + at, bytes, (size_t)n))
				same = 0;
			else
				at += (size_t)n;
		}
	}
	if (equal)
		*equal = same && at == klen;
	return 0;
}

/* Consume one whole value, nested or not; without recursion, so any depth is fine. */
static int skip_value(struct cursor *c)
{
	int depth = 0;

	skip_space(c);
	do {
		int ch = peek(c);

		if (ch < 0)
			return -1;
		if (ch == '"') {
			if (read_string(c, NULL, NULL))
				return -1;
		} else if (ch == '{' || ch == '[') {
			depth++;
			c->p++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return -1;
			depth--;
			c->p++;
		} else if (is_space(ch)) {
			skip_space(c);
		} else if (ch == ',' || ch == ':') {
			if (depth == 0)
				return -1;
			c->p++;
		} else {
			do
				c->p++;
			while (c->p < c->end && !ends_scalar((unsigned char)*c->p));
		}
	} while (depth > 0);
	return 0;
}

/* Past the value at the cursor and the comma after it: the next member or element. */
static int skip_to_next(struct cursor *c)
{
	if (skip_value(c))
		return -1;
	skip_space(c);
	if (peek(c) != ',')
		return -1;
	c->p++;
	return 0;
}

/* Step into member key of the object at the cursor; on success *line is the key's line. */
static int enter_member(struct cursor *c, const char *key, int *line)
{
	skip_space(c);
	if (peek(c) != '{')
		return -1;
	c->p++;
	for (;;) {
		int key_line, equal = 0;

		skip_space(c);
		key_line = c->line;
		if (read_string(c, key, &equal))
			return -1;
		skip_space(c);
		if (peek(c) != ':')
			return -1;
		c->p++;
		if (equal) {
			*line = key_line;
			return 0;
		}
		if (skip_to_next(c))
			return -1;
	}
}

/* Step into element n of the array at the cursor; *line is where it starts. */
static int enter_element(struct cursor *c, unsigned long n, int *line)
{
	skip_space(c);
	if (peek(c) != '[')
		return -1;
	c->p++;
	for (unsigned long i = 0;; i++) {
		skip_space(c);
		if (peek(c) == ']' || peek(c) < 0)
			return -1;
		if (i == n) {
			*line = c->line;
			return 0;
		}
		if (skip_to_next(c))
			return -1;
	}
}

/* Follow path from the root; *line ends at the deepest part found. Returns 0 if all was. */
static int walk(struct cursor *c, const char *path, int *line)
{
	const char *q = path;

	skip_space(c);
	if (c->p >= c->end)
		return -1;
	*line = c->line;
	while (*q) {
		if (*q == '.') {
			q++;
		} else if (*q == '[') {
			unsigned long n = 0;

			for (q++; *q >= '0' && *q <= '9'; q++)
				n = n * 10 + (unsigned long)(*q - '0');
			if (*q == ']')
				q++;
			if (enter_element(c, n, line))
				return -1;
		} else {
			char key[256];
			size_t k = 0;

			while (*q && *q != '.' && *q != '[' && k < sizeof key - 1)
				key[k++] = *q++;
			key[k] = '\0';
			if (enter_member(c, key, line))
				return -1;
		}
	}
	return 0;
}

int nl_json_locate(const char *text, size_t len, const char *path)
{
	struct cursor c = { text, text + len, 1 };
	int line = 0;

	walk(&c, path, &line);
	return line;
}

int nl_json_locate_member(const char *text, size_t len, const char *object_path, const char *key)
{
	struct cursor c = { text, text + len, 1 };
	int line = 0;

	if (walk(&c, object_path, &line) == 0)
		enter_member(&c, key, &line);
	return line;
}
