/*
 * theater.h: the C SDK for Theater actors (clang + wasi-libc).
 *
 * It implements the guest side of docs/ABI.md (version 1). theater.c
 * defines the required exports (cabi_realloc, theater_abi_version,
 * theater_init, theater_handle_send, theater_handle_request,
 * theater_on_stop) and calls the actor_* functions below, which the actor
 * defines. Build a reactor module with both files:
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
 *     -Wl,--strip-all -I actor/guest/c -o actor.wasm actor.c actor/guest/c/theater.c
 *
 * Memory: theater_alloc hands out memory from an arena that lives until
 * the guest is next entered after the handler returns (the ABI's lifetime
 * for everything a handler returns). Handler arguments live as long.
 * Use malloc for anything that must outlive a call -- but an actor's
 * lasting data belongs in its state.
 */
#ifndef THEATER_H
#define THEATER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THEATER_ABI_VERSION 1

/* A byte range in guest memory. */
typedef struct {
  const uint8_t *ptr;
  size_t len;
} theater_bytes;

/* What a handler returns: err == NULL for ok, with the new state (and for
 * a request the reply); otherwise err is the message for the caller. */
typedef struct {
  const char *err;
  theater_bytes state;
  theater_bytes reply;
} theater_result;

static inline theater_result theater_ok(theater_bytes state) {
  theater_result r = {0};
  r.state = state;
  return r;
}

static inline theater_result theater_ok_reply(theater_bytes state, theater_bytes reply) {
  theater_result r = {0};
  r.state = state;
  r.reply = reply;
  return r;
}

static inline theater_result theater_fail(const char *msg) {
  theater_result r = {0};
  r.err = msg;
  return r;
}

/* ---- defined by the actor ------------------------------------------- */

theater_result actor_init(theater_bytes state);
theater_result actor_handle_send(theater_bytes state, theater_bytes msg);
theater_result actor_handle_request(theater_bytes state, theater_bytes msg);
/* Optional: without it, on-stop keeps the state unchanged. */
__attribute__((weak)) theater_result actor_on_stop(theater_bytes state);

/* ---- host functions --------------------------------------------------- */

/* Status codes of host calls (ABI.md). */
enum {
  THEATER_OK = 0,
  THEATER_ERR = 1, /* the WIT result is err; see the call's comment */
  THEATER_FAULT = -1,
  THEATER_INVALID = -2,
  THEATER_NO_MEMORY = -3,
  THEATER_TOO_LARGE = -4,
  THEATER_UNAVAILABLE = -5,
};

/* log.level */
enum { THEATER_DEBUG = 0, THEATER_INFO = 1, THEATER_WARN = 2, THEATER_ERROR = 3 };

#define THEATER_IMPORT(iface, fn) \
  __attribute__((import_module("theater:actor/" iface "@0.1.0"), import_name(fn)))

/* Raw imports, exactly as ABI.md lowers theater.wit. retptr points to a
 * return area of two uint32_t (ptr, len) or one uint64_t. */
THEATER_IMPORT("log", "write")
int32_t theater_log_write(int32_t level, const char *msg, size_t len);
THEATER_IMPORT("runtime", "self-id")
int32_t theater_runtime_self_id(void *retptr);
THEATER_IMPORT("message", "send")
int32_t theater_message_send(const char *to, size_t to_len, const uint8_t *payload,
                             size_t payload_len, void *retptr);
THEATER_IMPORT("message", "request")
int32_t theater_message_request(const char *to, size_t to_len, const uint8_t *payload,
                                size_t payload_len, uint32_t timeout_ms, void *retptr);
THEATER_IMPORT("clock", "now")
int32_t theater_clock_now(void *retptr);
THEATER_IMPORT("random", "bytes")
int32_t theater_random_bytes(uint32_t n, void *retptr);

THEATER_IMPORT("http-client", "send")
int32_t theater_http_client_send(const uint8_t *req, size_t req_len, void *retptr);
THEATER_IMPORT("store", "get")
int32_t theater_store_get(const char *ns, size_t ns_len, const char *key, size_t key_len, void *retptr);
THEATER_IMPORT("store", "put")
int32_t theater_store_put(const char *ns, size_t ns_len, const char *key, size_t key_len,
                          const uint8_t *value, size_t value_len, const uint8_t *cond,
                          size_t cond_len, void *retptr);
THEATER_IMPORT("store", "delete")
int32_t theater_store_delete(const char *ns, size_t ns_len, const char *key, size_t key_len,
                             const uint8_t *cond, size_t cond_len, void *retptr);
THEATER_IMPORT("store", "list-keys")
int32_t theater_store_list_keys(const char *ns, size_t ns_len, void *retptr);
THEATER_IMPORT("config", "get")
int32_t theater_config_get(const char *name, size_t name_len, void *retptr);
THEATER_IMPORT("channel", "publish")
int32_t theater_channel_publish(const char *topic, size_t topic_len, const uint8_t *payload,
                                size_t payload_len, void *retptr);
THEATER_IMPORT("timer", "set")
int32_t theater_timer_set(const char *id, size_t id_len, uint32_t delay_ms, uint32_t interval_ms,
                          const uint8_t *payload, size_t payload_len, void *retptr);
THEATER_IMPORT("timer", "cancel")
int32_t theater_timer_cancel(const char *id, size_t id_len, void *retptr);
THEATER_IMPORT("log", "write-fields")
int32_t theater_log_write_fields(int32_t level, const char *msg, size_t len,
                                 const uint8_t *fields, size_t fields_len);

/* Convenience wrappers; each returns the status. Returned bytes are in
 * host-allocated guest memory, valid like handler arguments. On
 * THEATER_ERR from send/request, *out is the msgpack message.error. */
int32_t theater_log(int32_t level, const char *msg); /* NUL-terminated */
int32_t theater_self_id(theater_bytes *out);
int32_t theater_send(const char *to, theater_bytes payload, theater_bytes *err_out);
int32_t theater_request(const char *to, theater_bytes payload, uint32_t timeout_ms,
                        theater_bytes *out);
int32_t theater_now(uint64_t *out);
int32_t theater_random(uint32_t n, theater_bytes *out);

/* http-client.send: req is the msgpack http-client.request (fields in
 * WIT order: method, url, headers, body). *out is the msgpack response
 * on THEATER_OK, the msgpack http-client.error on THEATER_ERR. */
int32_t theater_http(theater_bytes req, theater_bytes *out);

/* store.condition kinds (docs/ABI.md, "The store capability"). */
enum { THEATER_ALWAYS = 0, THEATER_ABSENT = 1, THEATER_IF_REVISION = 2 };

/* Writes the msgpack store.condition of kind (with rev for
 * THEATER_IF_REVISION); at most 1 + 9 + THEATER_MP_UINT_MAX bytes. */
size_t theater_mp_put_condition(uint8_t *buf, int kind, uint64_t rev);

/* store calls on namespace ns ("" is the actor's own; NUL-terminated
 * strings). On THEATER_OK *out is the msgpack option<entry> (get) or
 * list<string> (keys); on THEATER_ERR, for every call, the msgpack
 * store.error. put and delete write nothing to *out on THEATER_OK. */
int32_t theater_kv_get(const char *ns, const char *key, theater_bytes *out);
int32_t theater_kv_put(const char *ns, const char *key, theater_bytes value, int kind,
                       uint64_t rev, theater_bytes *out);
int32_t theater_kv_delete(const char *ns, const char *key, int kind, uint64_t rev,
                          theater_bytes *out);
int32_t theater_kv_keys(const char *ns, theater_bytes *out);

/* config.get: *out is the value (not msgpack) on THEATER_OK, the msgpack
 * config.error on THEATER_ERR. */
int32_t theater_config(const char *name, theater_bytes *out);

/* channel.publish to topic (NUL-terminated): payload is a msgpack value
 * of the subscribers' send type; on THEATER_ERR *err_out (if not NULL) is
 * the msgpack channel.error. The host publishes it once the handler's
 * event is durable. */
int32_t theater_publish(const char *topic, theater_bytes payload, theater_bytes *err_out);

/* timer.set of id (NUL-terminated): delivers payload (a msgpack value of
 * the actor's send type) into the actor's own mailbox once, delay_ms
 * after the handler's event is durable, or every interval_ms (at least
 * 1000) when that is not 0; setting an id again replaces its timer.
 * timer.cancel cancels it, once the event is durable. On THEATER_ERR
 * *err_out (if not NULL) is the msgpack timer.error. */
int32_t theater_set_timer(const char *id, uint32_t delay_ms, uint32_t interval_ms,
                          theater_bytes payload, theater_bytes *err_out);
int32_t theater_cancel_timer(const char *id, theater_bytes *err_out);

/* log.write-fields: fields is the msgpack list<log.field>, maps of
 * "key" and "value" strings (theater_mp_put_map_header, ...). */
int32_t theater_log_fields(int32_t level, const char *msg, theater_bytes fields);

/* ---- memory ------------------------------------------------------------ */

/* Arena memory valid until the guest is next entered after this handler
 * returns. align must be a power of two. NULL when memory is exhausted. */
void *theater_alloc(size_t size, size_t align);

/* ---- msgpack (canonical encodings out, every encoding in) ------------ */

/* Bytes the largest encoding of each kind can take. */
#define THEATER_MP_UINT_MAX 9
#define THEATER_MP_INT_MAX 9
#define THEATER_MP_FLOAT_MAX 9
#define THEATER_MP_HEADER_MAX 5

/* Encoders write to buf and return the number of bytes written. They
 * write the canonical form of docs/WIT-MSGPACK.md: integers in their
 * smallest encoding by value (whatever the WIT type), f32 as float32 and
 * f64 as float64 with one NaN, the smallest headers. The caller writes
 * record fields in WIT order, flags in declaration order and map entries
 * in ascending key order (integers by value, strings by their bytes). */
size_t theater_mp_put_nil(uint8_t *buf);
size_t theater_mp_put_bool(uint8_t *buf, bool v);
size_t theater_mp_put_uint(uint8_t *buf, uint64_t v);
size_t theater_mp_put_int(uint8_t *buf, int64_t v);
size_t theater_mp_put_f32(uint8_t *buf, float v);
size_t theater_mp_put_f64(uint8_t *buf, double v);
size_t theater_mp_put_str_header(uint8_t *buf, uint32_t len); /* then len bytes */
size_t theater_mp_put_bin_header(uint8_t *buf, uint32_t len); /* then len bytes */
size_t theater_mp_put_array_header(uint8_t *buf, uint32_t n); /* then n values */
size_t theater_mp_put_map_header(uint8_t *buf, uint32_t n);   /* then n key/value pairs */

/* Decoders consume one value from the front of *in and return false
 * (leaving *in unchanged) when it is not there. */
bool theater_mp_get_uint(theater_bytes *in, uint64_t *v);
bool theater_mp_get_str(theater_bytes *in, theater_bytes *s);
bool theater_mp_get_bin(theater_bytes *in, theater_bytes *b);

#endif /* THEATER_H */
