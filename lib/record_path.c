/* The path check on forwarded record lines; see record_path.h. */
#include "record_path.h"

#include <stdint.h>

struct scan {
	const char *s;
	size_t len, pos;
};

static int peek(const struct scan *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

/* The same insignificant whitespace json_check accepts: a record is one line. */
static void skip_ws(struct scan *c)
{
	while (peek(c) == ' ' || peek(c) == '\t')
		c->pos++;
}

static int name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static int hex_value(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Read one character of a JSON string's contents at c->pos, decoding an
 * escape: the code unit, or -1 at the closing quote, the end of the buffer
 * or a malformed escape (*bad set then).
 */
static int32_t string_char(struct scan *c, int *bad)
{
	int ch = peek(c);
	if (ch < 0 || ch == '"') {
		*bad = ch < 0;
		return -1;
	}
	c->pos++;
	if (ch != '\\')
		return ch;
	int e = peek(c);
	c->pos++;
	switch (e) {
	case '"': return '"';
	case '\\': return '\\';
	case '/': return '/';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u': {
		int32_t v = 0;
		for (int i = 0; i < 4; i++, c->pos++) {
			int h = hex_value(peek(c));
			if (h < 0) {
				*bad = 1;
				return -1;
			}
			v = v * 16 + h;
		}
		return v;
	}
	default:
		*bad = 1;
		return -1;
	}
}

/*
 * At an opening quote: consume the string, and say whether its decoded
 * contents equal word.  -1 if the string is malformed or unterminated.
 */
static int string_equals(struct scan *c, const char *word)
{
	int bad = 0, same = 1;
	size_t i = 0;
	if (peek(c) != '"')
		return -1;
	c->pos++;
	for (;;) {
		int32_t ch = string_char(c, &bad);
		if (bad)
			return -1;
		if (ch < 0)
			break;
		if (!word[i] || (int32_t)(unsigned char)word[i] != ch)
			same = 0;
		else
			i++;
	}
	c->pos++; /* the closing quote */
	return same && !word[i];
}

/*
 * Skip one member's value of any kind, up to (not over) the ',' or '}' that
 * follows it at the top level.  The line is already known to be well
 * formed; this stays in bounds anyway.
 */
static int skip_value(struct scan *c)
{
	int depth = 0;
	for (;;) {
		int ch = peek(c);
		if (ch < 0)
			return -1;
		if (depth == 0 && (ch == ',' || ch == '}' || ch == ']'))
			return 0;
		if (ch == '"') {
			if (string_equals(c, "") < 0)
				return -1;
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']')
			depth--;
		c->pos++;
	}
}

/* own_path, or own_path + "/" + one or more names joined by single slashes. */
static int path_below(const char *p, size_t n, const char *own)
{
	size_t i = 0;
	for (; own[i]; i++)
		if (i >= n || p[i] != own[i])
			return 0;
	if (i == n)
		return 1;
	/* Every further component: a slash, then at least one name character. */
	while (i < n) {
		if (p[i] != '/')
			return 0;
		i++;
		size_t start = i;
		while (i < n && name_char((unsigned char)p[i]))
			i++;
		if (i == start)
			return 0;
	}
	return 1;
}

int record_path_allowed(const char *line, size_t len, const char *own_path)
{
	struct scan c = { line, len, 0 };
	if (!line || !own_path || !own_path[0])
		return 0;
	skip_ws(&c);
	if (peek(&c) != '{')
		return 0;
	c.pos++;
	skip_ws(&c);
	/* The first key, written plainly: the host's parser reads the first member as the path. */
	static const char key[] = "\"path\"";
	for (size_t i = 0; i < sizeof key - 1; i++, c.pos++)
		if (peek(&c) != key[i])
			return 0;
	skip_ws(&c);
	if (peek(&c) != ':')
		return 0;
	c.pos++;
	skip_ws(&c);
	if (peek(&c) != '"')
		return 0;
	size_t start = ++c.pos;
	/* No escapes at all in the value: a real path never needs one, and "\/" must not smuggle a slash. */
	while (peek(&c) >= 0x20 && peek(&c) != '"' && peek(&c) != '\\')
		c.pos++;
	if (peek(&c) != '"' || !path_below(line + start, c.pos - start, own_path))
		return 0;
	c.pos++;

	/* The rest of the top level: no second "path", however it is spelt (a later duplicate would win). */
	for (;;) {
		skip_ws(&c);
		if (peek(&c) == '}')
			return 1;
		if (peek(&c) != ',')
			return 0;
		c.pos++;
		skip_ws(&c);
		int is_path = string_equals(&c, "path");
		if (is_path != 0)
			return 0;
		skip_ws(&c);
		if (peek(&c) != ':')
			return 0;
		c.pos++;
		if (skip_value(&c))
			return 0;
	}
}
