/*
 * hot-echo: the function Granda's tests and benchmarks use (docs/hot-functions.md).
 *
 * Hot mode (GRANDA_SOCKET set): an HTTP/1.1 server on that unix socket. Every request is answered with its own body
 * and X-Echo-* headers saying what the function saw; a few paths misbehave on purpose so that tests can exercise
 * Granda's error handling:
 *
 *   /status/<code>  answer with that status (100-599)     /chunked   answer with Transfer-Encoding: chunked
 *   /sleep/<ms>     sleep, then answer                     /close     answer, then close the connection
 *   /crash          exit(3) without answering              /big/<n>   answer n bytes of 'x'
 *   /garbage        answer something that is not HTTP      /env/NAME  answer the value of an env variable
 *   /hang           never answer                           /headers   answer the request's headers, one a line
 *   /spin/<ms>      use that much CPU time (busy), then answer
 *   /hog/<MiB>      allocate and touch that much memory, answer, then free it (past the limit: the OOM killer)
 *   /file/<path>    GET: answer the file at /<path> (a directory: its entries, one a line); PUT or POST: write the
 *                   body to it. A failure answers 404 (no such file) or 403 with strerror's text, so that tests can
 *                   see what the container lets a function read and write
 *
 * At start: HOT_ECHO_EXIT_AT_START=<code> exits at once, HOT_ECHO_NEVER_READY=1 never listens,
 * HOT_ECHO_INIT_MS=<ms> sleeps before listening.
 *
 * Run mode (GRANDA_SOCKET unset), the original contract: prints its arguments joined by spaces, or copies stdin to
 * stdout when there are none.
 *
 * Speed matters, since benchmarks compare a call through Granda with a call straight to this process: a thread per
 * connection blocks in read(), each connection keeps one read buffer and one output buffer across requests, a response
 * is one writev(), and nothing is logged per request.
 *
 * Built by scripts/build-images.sh: gcc -std=c11 -static -O2 -Wall -Wextra -Werror -pthread hot-echo.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
    HEAD_MAX = 64 * 1024,            /* request line plus headers */
    HEADERS_MAX = 100,
    BODY_MAX = 64 * 1024 * 1024,     /* request bodies, and /big responses */
    BUF_INITIAL = HEAD_MAX,          /* a connection's read buffer; grown to fit a big body */
    BUF_KEEP = 1024 * 1024,          /* ...and shrunk back after a request that needed more than this */
    OUT_INITIAL = 4 * 1024,          /* a connection's output buffer (response heads, /headers bodies) */
    X_BLOCK = 64 * 1024,             /* /big writes this block of 'x' over and over */
    SLEEP_MAX_MS = 24 * 3600 * 1000,
    HOG_MAX_MIB = 64 * 1024,
    FILE_MAX = 1024 * 1024,          /* /file answers at most this much of a file */
    PATH_MAX_BYTES = 4096,
    THREAD_STACK = 256 * 1024,       /* a connection needs little stack; keeps many connections cheap */
};

/* A piece of the read buffer (or of a string literal): requests are parsed in place, never copied. */
struct slice {
    const char *p;
    size_t n;
};

struct header {
    struct slice name, value;
};

struct request {
    struct slice method, path, query;
    struct header headers[HEADERS_MAX];
    size_t header_count;
    size_t content_length;
    struct slice body;
    bool http10;
    bool keep_alive;            /* what the client asked for; a path may still close */
    bool expect_continue;
    bool is_head;               /* a response to HEAD has headers only */
    unsigned long served;       /* requests this process has received, this one included */
    const char *error;          /* why parsing failed, for the 400 body */
};

/* A growable buffer the response head is built in. Allocation failures are remembered and end the connection. */
struct outbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

struct conn {
    int fd;
    char *buf;                  /* bytes read and not consumed yet: the current request, at most */
    size_t len, cap;
    struct outbuf out;
};

enum framing { FRAMING_LENGTH, FRAMING_CHUNKED, FRAMING_NONE };

static atomic_ulong served_total;
static struct slice env_revision, env_instance;
static char x_block[X_BLOCK];
static const char *socket_to_remove;    /* unlinked when a signal stops us, so host-side tests leave no litter */

/* ---------------------------------------------------------------------------------------------------------------- */
/* small helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hot-echo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static struct slice lit(const char *s)
{
    return (struct slice){ s, strlen(s) };
}

static bool slice_eq(struct slice s, const char *text)
{
    size_t n = strlen(text);
    return s.n == n && memcmp(s.p, text, n) == 0;
}

static bool slice_eq_ci(struct slice a, struct slice b)
{
    return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

static bool strip_prefix(struct slice s, const char *prefix, struct slice *rest)
{
    size_t n = strlen(prefix);
    if (s.n < n || memcmp(s.p, prefix, n) != 0)
        return false;
    *rest = (struct slice){ s.p + n, s.n - n };
    return true;
}

/* A non-empty run of digits no greater than max. */
static bool parse_decimal(struct slice s, size_t max, size_t *out)
{
    size_t v = 0;
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (size_t)(s.p[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static void sleep_ms(size_t ms)
{
    struct timespec left = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
}

/* Busy for ms of this thread's CPU time (not wall time: a descheduled thread keeps spinning until it has used it). */
static void spin_ms(size_t ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    volatile unsigned long sink = 0;
    do {
        for (int i = 0; i < 10000; i++)
            sink += (unsigned long)i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L < (long)ms);
}

/* Writes every byte of the iovecs (a socket may take a big response in several goes). Modifies iov. */
static bool write_all(int fd, struct iovec *iov, int count)
{
    while (count > 0) {
        ssize_t n = writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;       /* the client went away: EPIPE (SIGPIPE is ignored) or ECONNRESET */
        }
        while (count > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return true;
}

static bool write_text(int fd, const char *text)
{
    struct iovec iov = { (void *)text, strlen(text) };
    return write_all(fd, &iov, 1);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* the output buffer */

static void out_add(struct outbuf *o, const char *p, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : OUT_INITIAL;
        while (cap < o->len + n)
            cap *= 2;
        char *bigger = realloc(o->p, cap);
        if (!bigger) {
            o->failed = true;
            return;
        }
        o->p = bigger;
        o->cap = cap;
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void out_str(struct outbuf *o, const char *s)
{
    out_add(o, s, strlen(s));
}

static void out_num(struct outbuf *o, unsigned long v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_add(o, digits + i, sizeof digits - i);
}

static void out_header(struct outbuf *o, const char *name, struct slice value)
{
    out_str(o, name);
    out_add(o, ": ", 2);
    out_add(o, value.p, value.n);
    out_add(o, "\r\n", 2);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* parsing a request head, in place */

/* RFC 9110 tchar: what a method or a header name is made of. */
static bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(struct slice s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_token_char(s.p[i]))
            return false;
    return true;
}

static int fail(struct request *req, int status, const char *why)
{
    req->error = why;
    return status;
}

/*
 * Where the head ends: the offset just past the empty line, or 0 if it has not arrived yet. Lines may end in CRLF or,
 * leniently, a bare LF. Scanning starts at from, so that a head arriving in pieces is not rescanned from the start.
 */
static size_t find_head_end(const char *buf, size_t len, size_t from)
{
    const char *p = buf + from, *end = buf + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == '\n')
            return (size_t)(p + 2 - buf);
        if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
            return (size_t)(p + 3 - buf);
        p++;
    }
    return 0;
}

/* The next line of the head, without its CRLF or LF; advances *p. */
static struct slice next_line(const char **p, const char *end)
{
    const char *start = *p;
    const char *nl = memchr(start, '\n', (size_t)(end - start));
    size_t n = (size_t)(nl - start);        /* the head is known to end with an empty line: nl is never NULL */
    *p = nl + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    return (struct slice){ start, n };
}

/* Whether a comma-separated header value (Connection) lists the token. */
static bool has_token(struct slice value, const char *token)
{
    struct slice want = lit(token);
    const char *p = value.p, *end = value.p + value.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p, *b = stop;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (slice_eq_ci((struct slice){ a, (size_t)(b - a) }, want))
            return true;
        p = stop + 1;
    }
    return false;
}

/* METHOD SP request-target SP HTTP/1.x, origin-form targets only (what Granda sends). */
static int parse_request_line(struct slice line, struct request *req)
{
    const char *end = line.p + line.n;
    const char *sp1 = memchr(line.p, ' ', line.n);
    if (!sp1)
        return fail(req, 400, "malformed request line");
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2)
        return fail(req, 400, "malformed request line");
    struct slice version = { sp2 + 1, (size_t)(end - sp2 - 1) };

    req->method = (struct slice){ line.p, (size_t)(sp1 - line.p) };
    if (!is_token(req->method))
        return fail(req, 400, "malformed method");
    if (slice_eq(version, "HTTP/1.1"))
        req->http10 = false;
    else if (slice_eq(version, "HTTP/1.0"))
        req->http10 = true;
    else
        return fail(req, 400, "unsupported HTTP version");
    if (target == sp2 || *target != '/')
        return fail(req, 400, "the request target must be a path");
    for (const char *c = target; c < sp2; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return fail(req, 400, "malformed request target");

    const char *question = memchr(target, '?', (size_t)(sp2 - target));
    const char *path_end = question ? question : sp2;
    req->path = (struct slice){ target, (size_t)(path_end - target) };
    req->query = question ? (struct slice){ question + 1, (size_t)(sp2 - question - 1) } : lit("");
    req->is_head = slice_eq(req->method, "HEAD");
    req->keep_alive = !req->http10;
    return 0;
}

static int parse_content_length(struct slice value, struct request *req, bool *seen)
{
    size_t length = 0;
    if (value.n == 0)
        return fail(req, 400, "malformed Content-Length");
    for (size_t i = 0; i < value.n; i++)
        if (value.p[i] < '0' || value.p[i] > '9')
            return fail(req, 400, "malformed Content-Length");
    if (!parse_decimal(value, BODY_MAX, &length))     /* all digits, so it can only fail by being too large */
        return fail(req, 413, "request body too large");
    if (*seen && length != req->content_length)
        return fail(req, 400, "conflicting Content-Length headers");
    *seen = true;
    req->content_length = length;
    return 0;
}

/* name ":" OWS value OWS; obsolete line folding (a line starting with whitespace) is rejected by the token check. */
static int parse_header_line(struct slice line, struct request *req, bool *length_seen)
{
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon)
        return fail(req, 400, "malformed header line");
    struct slice name = { line.p, (size_t)(colon - line.p) };
    if (!is_token(name))
        return fail(req, 400, "malformed header name");
    const char *a = colon + 1, *b = line.p + line.n;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    for (const char *c = a; c < b; c++)
        if (*c == '\0' || *c == '\r')
            return fail(req, 400, "malformed header value");
    struct slice value = { a, (size_t)(b - a) };

    if (req->header_count == HEADERS_MAX)
        return fail(req, 431, "too many headers");
    req->headers[req->header_count++] = (struct header){ name, value };

    if (slice_eq_ci(name, lit("Content-Length")))
        return parse_content_length(value, req, length_seen);
    if (slice_eq_ci(name, lit("Transfer-Encoding")))
        return fail(req, 400, "request bodies must have a Content-Length, not a Transfer-Encoding");
    if (slice_eq_ci(name, lit("Connection"))) {
        if (has_token(value, "close"))
            req->keep_alive = false;
        else if (has_token(value, "keep-alive"))
            req->keep_alive = true;
    } else if (slice_eq_ci(name, lit("Expect")) && slice_eq_ci(value, lit("100-continue"))) {
        req->expect_continue = true;
    }
    return 0;
}

/* Parses buf[0, head_len), which ends with an empty line. Returns 0, or the status to reject the request with. */
static int parse_head(const char *buf, size_t head_len, struct request *req)
{
    const char *p = buf, *end = buf + head_len;
    bool length_seen = false;
    req->header_count = 0;
    req->content_length = 0;
    req->expect_continue = false;
    req->error = NULL;

    int status = parse_request_line(next_line(&p, end), req);
    while (status == 0) {
        struct slice line = next_line(&p, end);
        if (line.n == 0)
            break;
        status = parse_header_line(line, req, &length_seen);
    }
    return status;
}

static bool find_header(const struct request *req, struct slice name, struct slice *value)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (slice_eq_ci(req->headers[i].name, name)) {
            *value = req->headers[i].value;
            return true;
        }
    }
    return false;
}

/* The header's value, or empty if the request has none. */
static struct slice header_or_empty(const struct request *req, const char *name)
{
    struct slice value = lit("");
    find_header(req, lit(name), &value);
    return value;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* building responses */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* The status line, Content-Type and the X-Echo-* headers every answer to a parsed request carries. */
static void head_begin(struct outbuf *o, const struct request *req, int status, struct slice content_type)
{
    o->len = 0;
    o->failed = false;
    out_str(o, "HTTP/1.1 ");
    out_num(o, (unsigned long)status);
    out_add(o, " ", 1);
    out_str(o, reason_phrase(status));
    out_add(o, "\r\n", 2);
    out_header(o, "Content-Type", content_type);
    out_header(o, "X-Echo-Method", req->method);
    out_header(o, "X-Echo-Path", req->path);
    out_header(o, "X-Echo-Query", req->query);
    out_header(o, "X-Echo-Call-Id", header_or_empty(req, "Granda-Call-Id"));
    out_header(o, "X-Echo-Deadline", header_or_empty(req, "Granda-Deadline"));
    out_header(o, "X-Echo-Timeout-Ms", header_or_empty(req, "Granda-Timeout-Ms"));
    out_header(o, "X-Echo-Revision", env_revision);
    out_header(o, "X-Echo-Instance", env_instance);
    out_str(o, "X-Echo-Served: ");
    out_num(o, req->served);
    out_add(o, "\r\n", 2);
    struct slice wanted;
    if (find_header(req, lit("X-Echo-Header"), &wanted)) {
        struct slice value = lit("");
        find_header(req, wanted, &value);
        out_header(o, "X-Echo-Header-Value", value);
    }
}

/* How the body is delimited, whether the connection stays open, and the empty line. */
static void head_finish(struct outbuf *o, const struct request *req, enum framing framing, size_t length, bool keep)
{
    if (framing == FRAMING_LENGTH) {
        out_str(o, "Content-Length: ");
        out_num(o, length);
        out_add(o, "\r\n", 2);
    } else if (framing == FRAMING_CHUNKED) {
        out_str(o, "Transfer-Encoding: chunked\r\n");
    }
    if (!keep)
        out_str(o, "Connection: close\r\n");
    else if (req->http10)
        out_str(o, "Connection: keep-alive\r\n");
    out_add(o, "\r\n", 2);
}

/* Sends the head built in c->out and the body in one writev. Returns whether the connection stays open. */
static bool send_response(struct conn *c, const struct request *req, struct slice body, bool keep)
{
    if (c->out.failed)
        return false;
    struct iovec iov[2] = {
        { c->out.p, c->out.len },
        { (void *)body.p, req->is_head ? 0 : body.n },
    };
    return write_all(c->fd, iov, 2) && keep;
}

static struct slice request_content_type(const struct request *req)
{
    struct slice type;
    return find_header(req, lit("Content-Type"), &type) ? type : lit("application/octet-stream");
}

/* The default answer: the request's own body, with the given status. */
static bool respond_echo(struct conn *c, const struct request *req, int status, bool force_close)
{
    bool keep = req->keep_alive && !force_close;
    head_begin(&c->out, req, status, request_content_type(req));
    head_finish(&c->out, req, FRAMING_LENGTH, req->body.n, keep);
    return send_response(c, req, req->body, keep);
}

static bool respond_text(struct conn *c, const struct request *req, int status, struct slice text)
{
    head_begin(&c->out, req, status, lit("text/plain"));
    head_finish(&c->out, req, FRAMING_LENGTH, text.n, req->keep_alive);
    return send_response(c, req, text, req->keep_alive);
}

/*
 * /status/<code>. Statuses that cannot carry a body are sent without one: 204 and 304 with no body at all, and a 1xx
 * as the interim response it is, followed by the default 200 answer (so the client is never left waiting).
 */
static bool respond_status(struct conn *c, const struct request *req, int status)
{
    if (status < 200) {
        if (!req->http10) {     /* HTTP/1.0 clients do not understand interim responses */
            head_begin(&c->out, req, status, request_content_type(req));
            head_finish(&c->out, req, FRAMING_NONE, 0, true);
            if (!send_response(c, req, lit(""), true))
                return false;
        }
        return respond_echo(c, req, 200, false);
    }
    if (status == 204 || status == 304) {
        head_begin(&c->out, req, status, request_content_type(req));
        head_finish(&c->out, req, FRAMING_NONE, 0, req->keep_alive);
        return send_response(c, req, lit(""), req->keep_alive);
    }
    return respond_echo(c, req, status, false);
}

/* /chunked: the request body in (up to) three chunks, then the last, empty chunk. */
static bool respond_chunked(struct conn *c, const struct request *req)
{
    head_begin(&c->out, req, 200, request_content_type(req));
    head_finish(&c->out, req, FRAMING_CHUNKED, 0, req->keep_alive);
    if (c->out.failed)
        return false;

    struct iovec iov[1 + 3 * 3 + 1];
    char size_lines[3][24];
    int count = 0;
    iov[count++] = (struct iovec){ c->out.p, c->out.len };
    if (!req->is_head) {
        size_t third = req->body.n / 3;
        size_t sizes[3] = { third, third, req->body.n - 2 * third };
        const char *data = req->body.p;
        for (int i = 0; i < 3; i++) {
            if (sizes[i] == 0)      /* an empty chunk would end the body early */
                continue;
            int n = snprintf(size_lines[i], sizeof size_lines[i], "%zx\r\n", sizes[i]);
            iov[count++] = (struct iovec){ size_lines[i], (size_t)n };
            iov[count++] = (struct iovec){ (void *)data, sizes[i] };
            iov[count++] = (struct iovec){ "\r\n", 2 };
            data += sizes[i];
        }
        iov[count++] = (struct iovec){ "0\r\n\r\n", 5 };
    }
    return write_all(c->fd, iov, count) && req->keep_alive;
}

/* /big/<n>: n bytes of 'x', written from one static block so that 64 MiB cost no memory. */
static bool respond_big(struct conn *c, const struct request *req, size_t size)
{
    head_begin(&c->out, req, 200, lit("text/plain"));
    head_finish(&c->out, req, FRAMING_LENGTH, size, req->keep_alive);
    if (c->out.failed)
        return false;

    struct iovec iov[16];
    int count = 0;
    size_t left = req->is_head ? 0 : size;
    iov[count++] = (struct iovec){ c->out.p, c->out.len };
    do {
        while (count < 16 && left > 0) {
            size_t n = left < X_BLOCK ? left : X_BLOCK;
            iov[count++] = (struct iovec){ x_block, n };
            left -= n;
        }
        if (!write_all(c->fd, iov, count))
            return false;
        count = 0;
    } while (left > 0);
    return req->keep_alive;
}

/* /env/<NAME>: the variable's value, or 404. */
static bool respond_env(struct conn *c, const struct request *req, struct slice name)
{
    char name_z[256];
    if (name.n == 0 || name.n >= sizeof name_z)
        return respond_text(c, req, 400, lit("bad variable name\n"));
    memcpy(name_z, name.p, name.n);
    name_z[name.n] = '\0';
    const char *value = getenv(name_z);
    if (!value)
        return respond_text(c, req, 404, lit(""));
    return respond_text(c, req, 200, lit(value));
}

/* /headers: every request header as "Name: value\n", in the order received. */
static bool respond_headers(struct conn *c, const struct request *req)
{
    size_t length = 0;
    for (size_t i = 0; i < req->header_count; i++)
        length += req->headers[i].name.n + 2 + req->headers[i].value.n + 1;
    head_begin(&c->out, req, 200, lit("text/plain"));
    head_finish(&c->out, req, FRAMING_LENGTH, length, req->keep_alive);
    size_t head_len = c->out.len;
    if (!req->is_head) {
        for (size_t i = 0; i < req->header_count; i++) {
            out_add(&c->out, req->headers[i].name.p, req->headers[i].name.n);
            out_add(&c->out, ": ", 2);
            out_add(&c->out, req->headers[i].value.p, req->headers[i].value.n);
            out_add(&c->out, "\n", 1);
        }
    }
    if (c->out.failed)
        return false;
    c->out.len = head_len;      /* send_response sends the head from c->out; the body follows it in memory */
    return send_response(c, req, (struct slice){ c->out.p + head_len, length }, req->keep_alive);
}

/* /hang: never answer, but notice when the client gives up, so that the thread and the descriptor go away. */
static void hang(struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->buf, c->cap);
        if (n == 0 || (n < 0 && errno != EINTR))
            return;
    }
}

/* /hog/<MiB>: allocates and touches every page, so the memory is really used (malloc alone only reserves it). */
static bool respond_hog(struct conn *c, const struct request *req, size_t mib)
{
    size_t size = mib * 1024 * 1024;
    char *p = malloc(size ? size : 1);
    if (!p)
        return respond_text(c, req, 507, lit("malloc failed\n"));
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 1;
    bool keep = respond_echo(c, req, 200, false);
    free(p);
    return keep;
}

/* A failed /file: 404 when there is no such file, else 403; the body is what the kernel said. */
static bool respond_errno(struct conn *c, const struct request *req, const char *what, int err)
{
    char text[256];
    snprintf(text, sizeof text, "%s: %s\n", what, strerror(err));
    return respond_text(c, req, err == ENOENT ? 404 : 403, lit(text));
}

/* /file/<path>, GET of a directory: its entries, one a line, "." and ".." left out. */
static bool respond_dir(struct conn *c, const struct request *req, DIR *dir)
{
    struct outbuf list = { 0 };
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            out_str(&list, e->d_name);
            out_add(&list, "\n", 1);
        }
    }
    closedir(dir);
    bool keep = list.failed ? respond_text(c, req, 507, lit("out of memory\n"))
                            : respond_text(c, req, 200, (struct slice){ list.p ? list.p : "", list.len });
    free(list.p);
    return keep;
}

static bool respond_file(struct conn *c, const struct request *req, struct slice rest)
{
    char path[PATH_MAX_BYTES];
    if (rest.n + 2 > sizeof path || memchr(rest.p, '\0', rest.n))
        return respond_text(c, req, 400, lit("bad path\n"));
    path[0] = '/';
    memcpy(path + 1, rest.p, rest.n);
    path[rest.n + 1] = '\0';

    if (slice_eq(req->method, "PUT") || slice_eq(req->method, "POST")) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            return respond_errno(c, req, "open", errno);
        struct iovec iov = { (void *)req->body.p, req->body.n };
        bool written = write_all(fd, &iov, 1);
        int err = errno;
        if (close(fd) < 0 && written) {
            written = false;
            err = errno;
        }
        if (!written)
            return respond_errno(c, req, "write", err);
        return respond_text(c, req, 201, lit(""));
    }

    DIR *dir = opendir(path);
    if (dir)
        return respond_dir(c, req, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return respond_errno(c, req, "open", errno);
    char *data = malloc(FILE_MAX);
    size_t len = 0;
    ssize_t n = 0;
    while (data && len < FILE_MAX && ((n = read(fd, data + len, FILE_MAX - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    int err = errno;
    close(fd);
    if (!data)
        return respond_text(c, req, 507, lit("out of memory\n"));
    bool keep = n < 0 ? respond_errno(c, req, "read", err)
                      : respond_text(c, req, 200, (struct slice){ data, len });
    free(data);
    return keep;
}

/* Answers one request. Returns whether the connection stays open for the next. */
static bool respond(struct conn *c, const struct request *req)
{
    struct slice arg;
    size_t n;

    if (strip_prefix(req->path, "/status/", &arg)) {
        if (!parse_decimal(arg, 599, &n) || n < 100)
            return respond_text(c, req, 400, lit("the status must be 100-599\n"));
        return respond_status(c, req, (int)n);
    }
    if (strip_prefix(req->path, "/sleep/", &arg)) {
        if (!parse_decimal(arg, SLEEP_MAX_MS, &n))
            return respond_text(c, req, 400, lit("bad sleep milliseconds\n"));
        sleep_ms(n);
        return respond_echo(c, req, 200, false);
    }
    if (strip_prefix(req->path, "/spin/", &arg)) {
        if (!parse_decimal(arg, SLEEP_MAX_MS, &n))
            return respond_text(c, req, 400, lit("bad spin milliseconds\n"));
        spin_ms(n);
        return respond_echo(c, req, 200, false);
    }
    if (strip_prefix(req->path, "/hog/", &arg)) {
        if (!parse_decimal(arg, HOG_MAX_MIB, &n))
            return respond_text(c, req, 400, lit("bad MiB (0-65536)\n"));
        return respond_hog(c, req, n);
    }
    if (strip_prefix(req->path, "/file/", &arg))
        return respond_file(c, req, arg);
    if (slice_eq(req->path, "/crash"))
        _exit(3);
    if (slice_eq(req->path, "/garbage")) {
        write_text(c->fd, "this is not http\r\n\r\n");
        return false;
    }
    if (slice_eq(req->path, "/hang")) {
        hang(c);
        return false;
    }
    if (slice_eq(req->path, "/chunked"))
        return respond_chunked(c, req);
    if (slice_eq(req->path, "/close"))
        return respond_echo(c, req, 200, true);
    if (strip_prefix(req->path, "/big/", &arg)) {
        if (!parse_decimal(arg, BODY_MAX, &n))
            return respond_text(c, req, 400, lit("bad size (0-67108864)\n"));
        return respond_big(c, req, n);
    }
    if (strip_prefix(req->path, "/env/", &arg))
        return respond_env(c, req, arg);
    if (slice_eq(req->path, "/headers"))
        return respond_headers(c, req);
    return respond_echo(c, req, 200, false);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* a connection */

static ssize_t read_more(struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n >= 0 || errno != EINTR) {
            if (n > 0)
                c->len += (size_t)n;
            return n;
        }
    }
}

/* RFC 9112 asks servers to ignore empty lines before a request (some clients send CRLF after a body). */
static void drop_leading_newlines(struct conn *c)
{
    size_t n = 0;
    while (n < c->len && (c->buf[n] == '\r' || c->buf[n] == '\n'))
        n++;
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Reads until the buffer holds a whole request head. Returns 0, -1 if the client closed, or a status to reject with. */
static int read_head(struct conn *c, size_t *head_len)
{
    size_t scanned = 0;
    for (;;) {
        if (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n')) {
            drop_leading_newlines(c);
            scanned = 0;
        }
        *head_len = find_head_end(c->buf, c->len, scanned);
        if (*head_len > 0)
            return 0;
        if (c->len >= HEAD_MAX)
            return 431;
        scanned = c->len >= 2 ? c->len - 2 : 0;     /* a line end may be split across reads */
        if (read_more(c) <= 0)
            return -1;
    }
}

static bool read_until(struct conn *c, size_t total)
{
    while (c->len < total)
        if (read_more(c) <= 0)
            return false;
    return true;
}

static bool grow_buffer(struct conn *c, size_t cap)
{
    char *bigger = realloc(c->buf, cap);
    if (!bigger)
        return false;
    c->buf = bigger;
    c->cap = cap;
    return true;
}

/* Removes the request just answered from the buffer, and gives back memory a big body took. */
static void consume(struct conn *c, size_t total)
{
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    if (c->cap > BUF_KEEP && c->len <= BUF_INITIAL)
        grow_buffer(c, BUF_INITIAL);    /* shrinking; if realloc fails the old buffer simply stays */
}

/* Answers a request that cannot be served, then closes without leaving unread bytes (which would reset the peer). */
static void reject(struct conn *c, int status, const char *why)
{
    char head[160];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason_phrase(status), strlen(why) + 1);
    struct iovec iov[3] = { { head, (size_t)n }, { (void *)why, strlen(why) }, { "\n", 1 } };
    write_all(c->fd, iov, 3);
    shutdown(c->fd, SHUT_WR);
    while (recv(c->fd, c->buf, c->cap, MSG_DONTWAIT) > 0)
        ;
}

static void serve(struct conn *c)
{
    for (;;) {
        size_t head_len;
        struct request req;
        int status = read_head(c, &head_len);
        if (status < 0)
            return;
        if (status > 0) {
            reject(c, status, "request head too large");
            return;
        }
        status = parse_head(c->buf, head_len, &req);
        if (status != 0) {
            reject(c, status, req.error);
            return;
        }
        size_t total = head_len + req.content_length;
        if (total > c->cap) {
            if (!grow_buffer(c, total)) {
                reject(c, 413, "request body too large for this instance's memory");
                return;
            }
            parse_head(c->buf, head_len, &req);     /* again: the parsed slices pointed into the old buffer */
        }
        if (req.expect_continue && c->len < total && !write_text(c->fd, "HTTP/1.1 100 Continue\r\n\r\n"))
            return;
        if (!read_until(c, total))
            return;
        req.body = (struct slice){ c->buf + head_len, req.content_length };
        req.served = atomic_fetch_add_explicit(&served_total, 1, memory_order_relaxed) + 1;
        if (!respond(c, &req))
            return;
        consume(c, total);
    }
}

static void *connection_thread(void *arg)
{
    struct conn *c = arg;
    serve(c);
    close(c->fd);
    free(c->buf);
    free(c->out.p);
    free(c);
    return NULL;
}

static struct conn *conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->cap = BUF_INITIAL;
    c->buf = malloc(c->cap);
    if (!c->buf) {
        free(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* hot mode */

/* mkdir -p of the socket's directory (Granda mounts /granda, but a test on the host may not have created it). */
static void make_parent_dirs(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0777);       /* errors (it exists, no permission) show up as a clearer bind error */
        *slash = '/';
    }
}

/*
 * Listens on path. The socket is bound under a temporary name and renamed into place once it listens, because Granda
 * takes the socket's existence as readiness: a connect() between bind() and listen() would be refused.
 */
static int listen_on(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s.new", path);
    if (n < 0 || (size_t)n >= sizeof addr.sun_path)
        die("socket path too long (at most %zu bytes): %s", sizeof addr.sun_path - 5, path);
    make_parent_dirs(path);
    unlink(path);               /* a stale socket from an earlier process: bind() would fail on it */
    unlink(addr.sun_path);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    mode_t old_mask = umask(0);     /* connecting needs write permission, and the host side may be another user */
    int bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old_mask);
    if (bound < 0)
        die("bind %s: %s", addr.sun_path, strerror(errno));
    if (listen(fd, SOMAXCONN) < 0)
        die("listen: %s", strerror(errno));
    if (rename(addr.sun_path, path) < 0)
        die("rename %s to %s: %s", addr.sun_path, path, strerror(errno));
    return fd;
}

static void accept_forever(int listener)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED)
                sleep_ms(10);       /* out of descriptors or memory: wait for connections to close */
            continue;
        }
        struct conn *c = conn_new(fd);
        pthread_t thread;
        if (!c) {
            close(fd);
        } else if (pthread_create(&thread, &attr, connection_thread, c) != 0) {
            close(fd);
            free(c->buf);
            free(c);
        }
    }
}

static size_t env_number(const char *name)
{
    const char *value = getenv(name);
    return value ? strtoul(value, NULL, 10) : 0;
}

static struct slice env_or_empty(const char *name)
{
    const char *value = getenv(name);
    return lit(value ? value : "");
}

static void hot_mode(const char *path)
{
    const char *exit_code = getenv("HOT_ECHO_EXIT_AT_START");
    if (exit_code && *exit_code) {
        fputs("exiting at start\n", stderr);
        exit((int)strtol(exit_code, NULL, 10));
    }
    const char *never_ready = getenv("HOT_ECHO_NEVER_READY");
    if (never_ready && strcmp(never_ready, "1") == 0) {
        fputs("hot-echo: HOT_ECHO_NEVER_READY=1, not listening\n", stderr);
        for (;;)
            pause();
    }
    sleep_ms(env_number("HOT_ECHO_INIT_MS"));

    env_revision = env_or_empty("GRANDA_REVISION");
    env_instance = env_or_empty("GRANDA_INSTANCE");
    memset(x_block, 'x', sizeof x_block);
    int listener = listen_on(path);
    socket_to_remove = path;
    fprintf(stderr, "hot-echo listening on %s\n", path);
    accept_forever(listener);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* run mode, and start */

static int run_mode(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            if (i > 1)
                putchar(' ');
            fputs(argv[i], stdout);
        }
        putchar('\n');
        return fflush(stdout) == 0 ? 0 : 1;
    }
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        struct iovec iov = { buf, (size_t)n };
        if (!write_all(STDOUT_FILENO, &iov, 1))
            return 1;
    }
}

/* As PID 1 of a container a process gets no default signal handling: without this, docker stop waits 10 s. */
static void on_stop_signal(int sig)
{
    if (socket_to_remove)
        unlink(socket_to_remove);
    _exit(128 + sig);
}

static void setup_signals(void)
{
    struct sigaction stop = { .sa_handler = on_stop_signal };
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a client that goes away must not kill the process: writes just fail */
}

int main(int argc, char **argv)
{
    setup_signals();
    const char *path = getenv("GRANDA_SOCKET");
    if (!path || !*path)
        return run_mode(argc, argv);
    hot_mode(path);
    return 0;
}
