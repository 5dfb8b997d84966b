/* theater.c: the exports and helpers declared in theater.h. */
#include "theater.h"

#include <stdlib.h>
#include <string.h>

#define THEATER_EXPORT(name) __attribute__((export_name(name)))

/* ---- arena ---------------------------------------------------------------
 * Everything the host sees -- blocks it allocates through cabi_realloc,
 * return areas, returned state and replies -- comes from one arena of
 * malloc'd chunks. It is emptied the first time the guest is entered after
 * a handler returned (ABI.md, "Memory ownership"): not at handler entry,
 * because the host allocates a handler's arguments just before calling it.
 * One standard-size chunk is kept, so steady traffic does not call malloc. */

struct chunk {
  struct chunk *next;
  size_t cap, used;
  _Alignas(16) unsigned char data[];
};

enum { CHUNK_SIZE = 64 * 1024 };

static struct chunk *chunks; /* newest first; the last one is kept */
static bool reset_pending;

static void enter(void) {
  if (!reset_pending) return;
  reset_pending = false;
  struct chunk *keep = NULL;
  while (chunks) {
    struct chunk *next = chunks->next;
    if (!keep && chunks->cap == CHUNK_SIZE)
      keep = chunks;
    else
      free(chunks);
    chunks = next;
  }
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
  }
  chunks = keep;
}

void *theater_alloc(size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) align = 1;
  if (chunks) {
    uintptr_t base = (uintptr_t)chunks->data;
    size_t off = ((base + chunks->used + align - 1) & ~(uintptr_t)(align - 1)) - base;
    if (off <= chunks->cap && size <= chunks->cap - off) {
      chunks->used = off + size;
      return chunks->data + off;
    }
  }
  size_t cap = CHUNK_SIZE;
  if (align > CHUNK_SIZE / 2 || size > CHUNK_SIZE - align) {
    if (size > SIZE_MAX - sizeof(struct chunk) - align) return NULL;
    cap = size + align;
  }
  struct chunk *c = malloc(sizeof(struct chunk) + cap);
  if (!c) return NULL;
  c->cap = cap;
  c->used = 0;
  c->next = chunks;
  chunks = c;
  return theater_alloc(size, align); /* fits now */
}

THEATER_EXPORT("cabi_realloc")
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
  enter();
  void *p = theater_alloc(new_size, align);
  if (p && old_ptr) memcpy(p, old_ptr, old_size < new_size ? old_size : new_size);
  return p;
}

THEATER_EXPORT("theater_abi_version")
int32_t theater_abi_version(void) { return THEATER_ABI_VERSION; }

/* ---- handlers ------------------------------------------------------------ */

/* The return area: tag at byte 0, then (ptr, len) pairs at offset 4. */
struct ret_area {
  uint32_t tag;
  uint32_t parts[4];
};

static struct ret_area *finish(theater_result r) {
  struct ret_area *ra = theater_alloc(sizeof *ra, 4);
  if (!ra) __builtin_trap(); /* not even 20 bytes left: nothing to report with */
  memset(ra, 0, sizeof *ra);
  if (r.err) {
    ra->tag = 1;
    ra->parts[0] = (uint32_t)(uintptr_t)r.err;
    ra->parts[1] = (uint32_t)strlen(r.err);
  } else {
    ra->parts[0] = (uint32_t)(uintptr_t)r.state.ptr;
    ra->parts[1] = (uint32_t)r.state.len;
    ra->parts[2] = (uint32_t)(uintptr_t)r.reply.ptr;
    ra->parts[3] = (uint32_t)r.reply.len;
  }
  reset_pending = true;
  return ra;
}

static theater_bytes bytes(const uint8_t *p, size_t n) { return (theater_bytes){p, n}; }

THEATER_EXPORT("theater_init")
struct ret_area *theater_init(const uint8_t *sp, size_t sl) {
  enter();
  return finish(actor_init(bytes(sp, sl)));
}

THEATER_EXPORT("theater_handle_send")
struct ret_area *theater_handle_send(const uint8_t *sp, size_t sl, const uint8_t *mp, size_t ml) {
  enter();
  return finish(actor_handle_send(bytes(sp, sl), bytes(mp, ml)));
}

THEATER_EXPORT("theater_handle_request")
struct ret_area *theater_handle_request(const uint8_t *sp, size_t sl, const uint8_t *mp,
                                        size_t ml) {
  enter();
  return finish(actor_handle_request(bytes(sp, sl), bytes(mp, ml)));
}

THEATER_EXPORT("theater_on_stop")
struct ret_area *theater_on_stop(const uint8_t *sp, size_t sl) {
  enter();
  if (!actor_on_stop) return finish(theater_ok(bytes(sp, sl)));
  return finish(actor_on_stop(bytes(sp, sl)));
}

/* ---- host function wrappers -------------------------------------------- */

/* Return area for imports: static, so it never moves during a call. */
static uint32_t ret[2];

static theater_bytes ret_bytes(void) {
  return bytes((const uint8_t *)(uintptr_t)ret[0], ret[1]);
}

int32_t theater_log(int32_t level, const char *msg) {
  return theater_log_write(level, msg, strlen(msg));
}

int32_t theater_self_id(theater_bytes *out) {
  int32_t st = theater_runtime_self_id(ret);
  if (st == THEATER_OK) *out = ret_bytes();
  return st;
}

int32_t theater_send(const char *to, theater_bytes payload, theater_bytes *err_out) {
  int32_t st = theater_message_send(to, strlen(to), payload.ptr, payload.len, ret);
  if (st == THEATER_ERR && err_out) *err_out = ret_bytes();
  return st;
}

int32_t theater_request(const char *to, theater_bytes payload, uint32_t timeout_ms,
                        theater_bytes *out) {
  int32_t st = theater_message_request(to, strlen(to), payload.ptr, payload.len, timeout_ms, ret);
  if (st == THEATER_OK || st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_http(theater_bytes req, theater_bytes *out) {
  int32_t st = theater_http_client_send(req.ptr, req.len, ret);
  if (st == THEATER_OK || st == THEATER_ERR) *out = ret_bytes();
  return st;
}

static size_t put_str(uint8_t *buf, const char *s) {
  size_t n = strlen(s);
  size_t h = theater_mp_put_str_header(buf, (uint32_t)n);
  memcpy(buf + h, s, n);
  return h + n;
}

size_t theater_mp_put_condition(uint8_t *buf, int kind, uint64_t rev) {
  size_t n = theater_mp_put_map_header(buf, 1);
  switch (kind) {
    case THEATER_ABSENT:
      n += put_str(buf + n, "absent");
      return n + theater_mp_put_nil(buf + n);
    case THEATER_IF_REVISION:
      n += put_str(buf + n, "revision");
      return n + theater_mp_put_uint(buf + n, rev);
    default:
      n += put_str(buf + n, "always");
      return n + theater_mp_put_nil(buf + n);
  }
}

int32_t theater_kv_get(const char *ns, const char *key, theater_bytes *out) {
  int32_t st = theater_store_get(ns, strlen(ns), key, strlen(key), ret);
  if (st == THEATER_OK || st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_kv_put(const char *ns, const char *key, theater_bytes value, int kind,
                       uint64_t rev, theater_bytes *out) {
  uint8_t cond[24];
  size_t n = theater_mp_put_condition(cond, kind, rev);
  int32_t st = theater_store_put(ns, strlen(ns), key, strlen(key), value.ptr, value.len, cond, n, ret);
  if (st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_kv_delete(const char *ns, const char *key, int kind, uint64_t rev,
                          theater_bytes *out) {
  uint8_t cond[24];
  size_t n = theater_mp_put_condition(cond, kind, rev);
  int32_t st = theater_store_delete(ns, strlen(ns), key, strlen(key), cond, n, ret);
  if (st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_kv_keys(const char *ns, theater_bytes *out) {
  int32_t st = theater_store_list_keys(ns, strlen(ns), ret);
  if (st == THEATER_OK || st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_config(const char *name, theater_bytes *out) {
  int32_t st = theater_config_get(name, strlen(name), ret);
  if (st == THEATER_OK || st == THEATER_ERR) *out = ret_bytes();
  return st;
}

int32_t theater_publish(const char *topic, theater_bytes payload, theater_bytes *err_out) {
  int32_t st = theater_channel_publish(topic, strlen(topic), payload.ptr, payload.len, ret);
  if (st == THEATER_ERR && err_out) *err_out = ret_bytes();
  return st;
}

int32_t theater_set_timer(const char *id, uint32_t delay_ms, uint32_t interval_ms,
                          theater_bytes payload, theater_bytes *err_out) {
  int32_t st = theater_timer_set(id, strlen(id), delay_ms, interval_ms, payload.ptr, payload.len, ret);
  if (st == THEATER_ERR && err_out) *err_out = ret_bytes();
  return st;
}

int32_t theater_cancel_timer(const char *id, theater_bytes *err_out) {
  int32_t st = theater_timer_cancel(id, strlen(id), ret);
  if (st == THEATER_ERR && err_out) *err_out = ret_bytes();
  return st;
}

int32_t theater_log_fields(int32_t level, const char *msg, theater_bytes fields) {
  return theater_log_write_fields(level, msg, strlen(msg), fields.ptr, fields.len);
}

int32_t theater_now(uint64_t *out) {
  uint64_t t;
  int32_t st = theater_clock_now(&t);
  if (st == THEATER_OK) *out = t;
  return st;
}

int32_t theater_random(uint32_t n, theater_bytes *out) {
  int32_t st = theater_random_bytes(n, ret);
  if (st == THEATER_OK) *out = ret_bytes();
  return st;
}

/* ---- msgpack -------------------------------------------------------------- */

static size_t put_be(uint8_t *buf, uint8_t marker, uint64_t v, int size) {
  buf[0] = marker;
  for (int i = 0; i < size; i++) buf[1 + i] = (uint8_t)(v >> (8 * (size - 1 - i)));
  return 1 + (size_t)size;
}

size_t theater_mp_put_uint(uint8_t *buf, uint64_t v) {
  if (v < 0x80) {
    buf[0] = (uint8_t)v;
    return 1;
  }
  if (v <= UINT8_MAX) return put_be(buf, 0xcc, v, 1);
  if (v <= UINT16_MAX) return put_be(buf, 0xcd, v, 2);
  if (v <= UINT32_MAX) return put_be(buf, 0xce, v, 4);
  return put_be(buf, 0xcf, v, 8);
}

size_t theater_mp_put_nil(uint8_t *buf) {
  buf[0] = 0xc0;
  return 1;
}

size_t theater_mp_put_bool(uint8_t *buf, bool v) {
  buf[0] = v ? 0xc3 : 0xc2;
  return 1;
}

/* Negative values in the signed encodings; the rest as uints. */
size_t theater_mp_put_int(uint8_t *buf, int64_t v) {
  if (v >= 0) return theater_mp_put_uint(buf, (uint64_t)v);
  if (v >= -32) {
    buf[0] = (uint8_t)v;
    return 1;
  }
  if (v >= INT8_MIN) return put_be(buf, 0xd0, (uint64_t)v, 1);
  if (v >= INT16_MIN) return put_be(buf, 0xd1, (uint64_t)v, 2);
  if (v >= INT32_MIN) return put_be(buf, 0xd2, (uint64_t)v, 4);
  return put_be(buf, 0xd3, (uint64_t)v, 8);
}

/* Floats: the bits, except that every NaN is the canonical quiet NaN. */
size_t theater_mp_put_f32(uint8_t *buf, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  if (v != v) bits = 0x7fc00000u;
  return put_be(buf, 0xca, bits, 4);
}

size_t theater_mp_put_f64(uint8_t *buf, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  if (v != v) bits = 0x7ff8000000000000ull;
  return put_be(buf, 0xcb, bits, 8);
}

/* Array and map headers: fix form below 16, then 16- and 32-bit. */
static size_t put_count(uint8_t *buf, uint8_t fix, uint8_t first, uint32_t n) {
  if (n < 16) {
    buf[0] = (uint8_t)(fix | n);
    return 1;
  }
  if (n <= UINT16_MAX) return put_be(buf, first, n, 2);
  return put_be(buf, first + 1, n, 4);
}

size_t theater_mp_put_array_header(uint8_t *buf, uint32_t n) { return put_count(buf, 0x90, 0xdc, n); }

size_t theater_mp_put_map_header(uint8_t *buf, uint32_t n) { return put_count(buf, 0x80, 0xde, n); }

size_t theater_mp_put_str_header(uint8_t *buf, uint32_t len) {
  if (len < 32) {
    buf[0] = (uint8_t)(0xa0 | len);
    return 1;
  }
  if (len <= UINT8_MAX) return put_be(buf, 0xd9, len, 1);
  if (len <= UINT16_MAX) return put_be(buf, 0xda, len, 2);
  return put_be(buf, 0xdb, len, 4);
}

size_t theater_mp_put_bin_header(uint8_t *buf, uint32_t len) {
  if (len <= UINT8_MAX) return put_be(buf, 0xc4, len, 1);
  if (len <= UINT16_MAX) return put_be(buf, 0xc5, len, 2);
  return put_be(buf, 0xc6, len, 4);
}

/* get_be reads a size-byte big-endian number after the marker byte. */
static bool get_be(const theater_bytes *in, int size, uint64_t *v) {
  if (in->len < 1 + (size_t)size) return false;
  uint64_t x = 0;
  for (int i = 0; i < size; i++) x = x << 8 | in->ptr[1 + i];
  *v = x;
  return true;
}

static void skip(theater_bytes *in, size_t n) {
  in->ptr += n;
  in->len -= n;
}

bool theater_mp_get_uint(theater_bytes *in, uint64_t *v) {
  if (in->len == 0) return false;
  uint8_t c = in->ptr[0];
  if (c < 0x80) {
    *v = c;
    skip(in, 1);
    return true;
  }
  if (c < 0xcc || c > 0xcf) return false;
  int size = 1 << (c - 0xcc);
  if (!get_be(in, size, v)) return false;
  skip(in, 1 + (size_t)size);
  return true;
}

/* get_sized reads a str/bin body whose length header is fix-form (when
 * fix_max > 0, markers fix..fix+fix_max-1) or 8/16/32-bit from first. */
static bool get_sized(theater_bytes *in, uint8_t fix, uint8_t fix_max, uint8_t first,
                      theater_bytes *out) {
  if (in->len == 0) return false;
  uint8_t c = in->ptr[0];
  uint64_t n;
  size_t head;
  if (c >= fix && c < fix + fix_max) {
    n = c - fix;
    head = 1;
  } else if (c >= first && c <= first + 2) {
    int size = 1 << (c - first);
    if (!get_be(in, size, &n)) return false;
    head = 1 + (size_t)size;
  } else {
    return false;
  }
  if (n > in->len - head) return false;
  *out = bytes(in->ptr + head, (size_t)n);
  skip(in, head + (size_t)n);
  return true;
}

bool theater_mp_get_str(theater_bytes *in, theater_bytes *s) {
  return get_sized(in, 0xa0, 32, 0xd9, s);
}

bool theater_mp_get_bin(theater_bytes *in, theater_bytes *b) {
  return get_sized(in, 0, 0, 0xc4, b);
}
