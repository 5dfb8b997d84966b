/* The counter actor (examples/counter/counter.wit) in C. */
#include "theater.h"

static const char not_uint[] = "counter: expected a msgpack uint";

/* decode reads one whole msgpack uint; empty state bytes mean 0. */
static bool decode(theater_bytes b, bool empty_ok, uint64_t *v) {
  if (b.len == 0 && empty_ok) {
    *v = 0;
    return true;
  }
  return theater_mp_get_uint(&b, v) && b.len == 0;
}

static theater_bytes encode(uint64_t v) {
  uint8_t *buf = theater_alloc(THEATER_MP_UINT_MAX, 1);
  if (!buf) return (theater_bytes){0};
  return (theater_bytes){buf, theater_mp_put_uint(buf, v)};
}

theater_result actor_init(theater_bytes state) {
  theater_log(THEATER_INFO, "counter started"); /* best effort: the status is ignored */
  uint64_t v;
  if (!decode(state, true, &v)) return theater_fail(not_uint);
  return theater_ok(state.len == 0 ? encode(0) : state);
}

static theater_result add(theater_bytes state, theater_bytes msg) {
  uint64_t total, n;
  if (!decode(msg, false, &n) || !decode(state, true, &total)) return theater_fail(not_uint);
  theater_bytes out = encode(total + n);
  if (!out.ptr) return theater_fail("counter: out of memory");
  return theater_ok_reply(out, out);
}

theater_result actor_handle_send(theater_bytes state, theater_bytes msg) {
  theater_result r = add(state, msg);
  r.reply = (theater_bytes){0};
  return r;
}

theater_result actor_handle_request(theater_bytes state, theater_bytes msg) {
  return add(state, msg);
}
