/* A test actor for the C SDK's msgpack encoders: every request is
 * answered with the same tuple of values (the list in
 * actor/guest/canonical_test.go), which must be the codec's canonical
 * bytes. */
#include <string.h>

#include "theater.h"

static uint8_t *p;

static void str(const char *s) {
  size_t n = strlen(s);
  p += theater_mp_put_str_header(p, (uint32_t)n);
  memcpy(p, s, n);
  p += n;
}

static void rep_str(char c, uint32_t n) {
  p += theater_mp_put_str_header(p, n);
  memset(p, c, n);
  p += n;
}

static void rep_bin(uint8_t c, uint32_t n) {
  p += theater_mp_put_bin_header(p, n);
  memset(p, c, n);
  p += n;
}

static theater_bytes values(void) {
  uint8_t *buf = theater_alloc(4096, 1);
  if (!buf) return (theater_bytes){0};
  p = buf;
  p += theater_mp_put_array_header(p, 43);
  p += theater_mp_put_bool(p, true);
  p += theater_mp_put_bool(p, false);
  p += theater_mp_put_nil(p);
  p += theater_mp_put_uint(p, 0);
  p += theater_mp_put_uint(p, 127);
  p += theater_mp_put_uint(p, 128);
  p += theater_mp_put_uint(p, 255);
  p += theater_mp_put_uint(p, 256);
  p += theater_mp_put_uint(p, 65536);
  p += theater_mp_put_uint(p, 4294967296ull);
  p += theater_mp_put_uint(p, UINT64_MAX);
  p += theater_mp_put_int(p, -1);
  p += theater_mp_put_int(p, -32);
  p += theater_mp_put_int(p, -33);
  p += theater_mp_put_int(p, -128);
  p += theater_mp_put_int(p, -129);
  p += theater_mp_put_int(p, -32769);
  p += theater_mp_put_int(p, -2147483649ll);
  p += theater_mp_put_int(p, INT64_MIN);
  p += theater_mp_put_int(p, 200);
  p += theater_mp_put_int(p, INT64_MAX);
  p += theater_mp_put_f32(p, 1.5f);
  p += theater_mp_put_f32(p, -0.0f);
  p += theater_mp_put_f32(p, -__builtin_nanf("0x5"));
  p += theater_mp_put_f64(p, 0.1);
  p += theater_mp_put_f64(p, -0.0);
  p += theater_mp_put_f64(p, __builtin_nan("0x5"));
  p += theater_mp_put_f64(p, __builtin_inf());
  str("");
  rep_str('a', 31);
  rep_str('b', 32);
  rep_str('c', 256);
  str("\xc3\xa9");
  rep_bin(0, 0);
  rep_bin(7, 255);
  rep_bin(8, 256);
  p += theater_mp_put_array_header(p, 15);
  for (uint32_t i = 0; i < 15; i++) p += theater_mp_put_uint(p, i);
  p += theater_mp_put_array_header(p, 16);
  for (uint32_t i = 0; i < 16; i++) p += theater_mp_put_uint(p, i * 1000);
  /* record point { x: u32, y: s32 } */
  p += theater_mp_put_map_header(p, 2);
  str("x");
  p += theater_mp_put_uint(p, 1);
  str("y");
  p += theater_mp_put_int(p, -2);
  /* map<s16, bool> with 16 entries, keys ascending */
  p += theater_mp_put_map_header(p, 16);
  for (int i = -8; i < 8; i++) {
    p += theater_mp_put_int(p, i * 100);
    p += theater_mp_put_bool(p, i % 2 == 0);
  }
  /* variant shape { circle(f32), none } */
  p += theater_mp_put_map_header(p, 1);
  str("circle");
  p += theater_mp_put_f32(p, 2.0f);
  /* flags perms { read, write, exec } */
  p += theater_mp_put_array_header(p, 2);
  str("read");
  str("exec");
  /* result<u32, string> */
  p += theater_mp_put_map_header(p, 1);
  str("err");
  str("x");
  return (theater_bytes){buf, (size_t)(p - buf)};
}

theater_result actor_init(theater_bytes state) { return theater_ok(state); }

theater_result actor_handle_send(theater_bytes state, theater_bytes msg) {
  (void)msg;
  return theater_ok(state);
}

theater_result actor_handle_request(theater_bytes state, theater_bytes msg) {
  (void)msg;
  theater_bytes out = values();
  if (!out.ptr) return theater_fail("canonical: out of memory");
  return theater_ok_reply(state, out);
}
