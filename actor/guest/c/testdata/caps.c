/* A test actor for the C SDK's store, config, http-client, channel and
 * log-fields wrappers:
 * every request runs the same calls and is answered with a msgpack array
 * of [status, result bytes] pairs, one per call, which
 * actor/host_store_test.go checks against the host's encodings. */
#include <string.h>

#include "theater.h"

static uint8_t *p;

static void str(const char *s) {
  size_t n = strlen(s);
  p += theater_mp_put_str_header(p, (uint32_t)n);
  memcpy(p, s, n);
  p += n;
}

static void pair(int32_t st, theater_bytes b) {
  p += theater_mp_put_array_header(p, 2);
  p += theater_mp_put_int(p, st);
  p += theater_mp_put_bin_header(p, (uint32_t)b.len);
  if (b.len) memcpy(p, b.ptr, b.len);
  p += b.len;
}

theater_result actor_init(theater_bytes state) { return theater_ok(state); }

theater_result actor_handle_send(theater_bytes state, theater_bytes msg) {
  (void)msg;
  return theater_ok(state);
}

theater_result actor_handle_request(theater_bytes state, theater_bytes msg) {
  (void)msg;
  uint8_t *buf = theater_alloc(4096, 1);
  uint8_t *req = theater_alloc(256, 1);
  if (!buf || !req) return theater_fail("out of memory");
  theater_bytes none = {0}, out;
  theater_bytes one = {(const uint8_t *)"1", 1};
  p = buf;
  p += theater_mp_put_array_header(p, 12);
  out = none;
  pair(theater_kv_put("", "a", one, THEATER_ALWAYS, 0, &out), out);
  out = none;
  pair(theater_kv_get("", "a", &out), out);
  out = none;
  pair(theater_kv_put("", "a", one, THEATER_ABSENT, 0, &out), out);
  out = none;
  pair(theater_kv_put("", "a", one, THEATER_IF_REVISION, 1, &out), out);
  out = none;
  pair(theater_kv_keys("", &out), out);
  out = none;
  pair(theater_kv_delete("", "a", THEATER_ALWAYS, 0, &out), out);
  out = none;
  pair(theater_kv_get("team", "x", &out), out);
  out = none;
  pair(theater_config("model", &out), out);
  /* http-client.request { method, url, headers, body } */
  uint8_t *q = req;
  uint8_t *save = p;
  p = q;
  p += theater_mp_put_map_header(p, 4);
  str("method");
  str("GET");
  str("url");
  str("https://denied.example/");
  str("headers");
  p += theater_mp_put_array_header(p, 0);
  str("body");
  p += theater_mp_put_bin_header(p, 0);
  theater_bytes r = {req, (size_t)(p - req)};
  p = save;
  out = none;
  pair(theater_http(r, &out), out);
  /* channel.publish: a granted topic, then one the grant does not name. */
  uint8_t hi[3];
  size_t hn = theater_mp_put_str_header(hi, 2);
  memcpy(hi + hn, "hi", 2);
  theater_bytes payload = {hi, hn + 2};
  out = none;
  pair(theater_publish("jobs.a", payload, &out), out);
  out = none;
  pair(theater_publish("other", payload, &out), out);
  /* log.write-fields with [{key: "k", value: "v"}] */
  save = p;
  p = req;
  p += theater_mp_put_array_header(p, 1);
  p += theater_mp_put_map_header(p, 2);
  str("key");
  str("k");
  str("value");
  str("v");
  theater_bytes fields = {req, (size_t)(p - req)};
  p = save;
  pair(theater_log_fields(THEATER_INFO, "fields", fields), none);
  return theater_ok_reply(state, (theater_bytes){buf, (size_t)(p - buf)});
}
