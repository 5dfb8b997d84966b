/* The pulse actor (examples/pulse/README.md) in C: timers and channels
 * through the C SDK. A request is the msgpack array [op, id, delay-ms,
 * interval-ms, payload]: "set" and "cancel" a timer, "publish" payload to
 * the topic id, "count" what it received. A one-way message (a fired
 * timer or a publication, a msgpack string) is counted; the state is
 * [received, last payload]. */
#include <string.h>

#include "theater.h"

static const char bad_request[] = "pulse: want [op, id, delay-ms, interval-ms, payload]";
static const char bad_state[] = "pulse: bad state";

/* take_header consumes the one-byte msgpack header marker (a fixarray
 * or fixmap of n) at the front of *in. */
static bool take_header(theater_bytes *in, uint8_t marker) {
  if (in->len == 0 || in->ptr[0] != marker) return false;
  in->ptr++;
  in->len--;
  return true;
}

/* cstr copies s into arena memory with a NUL (the SDK takes C strings). */
static const char *cstr(theater_bytes s) {
  char *c = theater_alloc(s.len + 1, 1);
  if (!c) return NULL;
  if (s.len) memcpy(c, s.ptr, s.len);
  c[s.len] = 0;
  return c;
}

/* cat joins up to three byte ranges in arena memory (ptr NULL when it
 * is exhausted). */
static theater_bytes cat(theater_bytes a, theater_bytes b, theater_bytes c) {
  uint8_t *buf = theater_alloc(a.len + b.len + c.len + 1, 1);
  if (!buf) return (theater_bytes){0};
  if (a.len) memcpy(buf, a.ptr, a.len);
  if (b.len) memcpy(buf + a.len, b.ptr, b.len);
  if (c.len) memcpy(buf + a.len + b.len, c.ptr, c.len);
  return (theater_bytes){buf, a.len + b.len + c.len};
}

/* mpstr encodes s as a msgpack string in arena memory. */
static theater_bytes mpstr(theater_bytes s) {
  if (!s.ptr) return s;
  uint8_t *buf = theater_alloc(THEATER_MP_HEADER_MAX + s.len, 1);
  if (!buf) return (theater_bytes){0};
  size_t k = theater_mp_put_str_header(buf, (uint32_t)s.len);
  if (s.len) memcpy(buf + k, s.ptr, s.len);
  return (theater_bytes){buf, k + s.len};
}

static theater_bytes lit(const char *s) { return (theater_bytes){(const uint8_t *)s, strlen(s)}; }

static theater_bytes state(uint64_t n, theater_bytes last) {
  uint8_t *buf = theater_alloc(1 + THEATER_MP_UINT_MAX + THEATER_MP_HEADER_MAX + last.len, 1);
  if (!buf) return (theater_bytes){0};
  size_t k = theater_mp_put_array_header(buf, 2);
  k += theater_mp_put_uint(buf + k, n);
  k += theater_mp_put_str_header(buf + k, (uint32_t)last.len);
  if (last.len) memcpy(buf + k, last.ptr, last.len);
  return (theater_bytes){buf, k + last.len};
}

static bool parse(theater_bytes st, uint64_t *n, theater_bytes *last) {
  return take_header(&st, 0x92) && theater_mp_get_uint(&st, n) && theater_mp_get_str(&st, last) &&
         st.len == 0;
}

/* decimal writes v in base 10 to arena memory. */
static theater_bytes decimal(uint64_t v) {
  char *buf = theater_alloc(20, 1);
  if (!buf) return (theater_bytes){0};
  size_t k = 20;
  do {
    buf[--k] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return (theater_bytes){(const uint8_t *)buf + k, 20 - k};
}

/* errtext is the text of a call that failed: "theater: <what>: <case>"
 * and, for a case that carries text, ": <text>" (the error is the msgpack
 * map {case: value}). */
static theater_bytes errtext(const char *what, int32_t st, theater_bytes e) {
  theater_bytes kase, text, none = {0};
  theater_bytes head = cat(lit("theater: "), lit(what), lit(": "));
  if (st != THEATER_ERR || !take_header(&e, 0x81) || !theater_mp_get_str(&e, &kase)) {
    return cat(head, lit("failed"), none);
  }
  if (theater_mp_get_str(&e, &text)) return cat(head, cat(kase, lit(": "), none), text);
  return cat(head, kase, none);
}

theater_result actor_init(theater_bytes st) {
  if (st.len == 0) return theater_ok(state(0, (theater_bytes){0}));
  uint64_t n;
  theater_bytes last;
  if (!parse(st, &n, &last)) return theater_fail(bad_state);
  return theater_ok(st);
}

theater_result actor_handle_send(theater_bytes st, theater_bytes msg) {
  uint64_t n;
  theater_bytes last, payload;
  if (!parse(st, &n, &last)) return theater_fail(bad_state);
  if (!theater_mp_get_str(&msg, &payload)) return theater_fail("pulse: a message is a string");
  return theater_ok(state(n + 1, payload));
}

theater_result actor_handle_request(theater_bytes st, theater_bytes msg) {
  uint64_t n, delay, interval;
  theater_bytes last, op, id, payload;
  if (!parse(st, &n, &last)) return theater_fail(bad_state);
  if (!take_header(&msg, 0x95) || !theater_mp_get_str(&msg, &op) || !theater_mp_get_str(&msg, &id) ||
      !theater_mp_get_uint(&msg, &delay) || !theater_mp_get_uint(&msg, &interval) ||
      !theater_mp_get_str(&msg, &payload) || delay > UINT32_MAX || interval > UINT32_MAX) {
    return theater_fail(bad_request);
  }
  const char *cid = cstr(id);
  theater_bytes sent = mpstr(payload), e = {0};
  if (!cid || !sent.ptr) return theater_fail("pulse: out of memory");
  theater_bytes answer = lit("ok");
  int32_t status = THEATER_OK;
  const char *what = "timer";
  if (op.len == 3 && !memcmp(op.ptr, "set", 3)) {
    status = theater_set_timer(cid, (uint32_t)delay, (uint32_t)interval, sent, &e);
  } else if (op.len == 6 && !memcmp(op.ptr, "cancel", 6)) {
    status = theater_cancel_timer(cid, &e);
  } else if (op.len == 7 && !memcmp(op.ptr, "publish", 7)) {
    status = theater_publish(cid, sent, &e);
    what = "channel";
  } else if (op.len == 5 && !memcmp(op.ptr, "count", 5)) {
    answer = cat(decimal(n), lit(" "), last);
  } else {
    return theater_fail("pulse: unknown op");
  }
  if (status != THEATER_OK) answer = errtext(what, status, e);
  answer = mpstr(answer);
  if (!answer.ptr) return theater_fail("pulse: out of memory");
  return theater_ok_reply(st, answer);
}
