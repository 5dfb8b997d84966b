;; The relay actor (examples/relay/relay.toml) in hand-written WAT: it
;; forwards every message to one other actor through the message
;; capability (docs/ABI.md version 1, theater:actor/message@0.1.0).
;;
;; Its state is the target's actor id as raw UTF-8 bytes (the manifest
;; gives no state type, so the host does not interpret it). The state
;; never changes. A request is forwarded with message.request and
;; answered with the target's reply; a send is forwarded with
;; message.send. Payloads and replies are passed through untouched: the
;; host has already checked them against the relay's types, which are the
;; target's.
;;
;; A non-zero status from the host becomes an err naming it, with the
;; case of the message.error variant when the status is 1, e.g.
;; "relay: request failed with status 1 (denied)".
;;
;; Memory map: 0..1023 static data (strings, return areas, the error
;; message being built), 1024.. a bump heap for the blocks the host
;; allocates through cabi_realloc (handler arguments, replies, errors).
(module
  (import "theater:actor/message@0.1.0" "send"
    (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "theater:actor/message@0.1.0" "request"
    (func $request (param i32 i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "relay: send failed with status ")                ;; 31 bytes
  (data (i32.const 64) "relay: request failed with status ")             ;; 34 bytes
  (data (i32.const 112) "relay: the state must be the target actor id") ;; 44 bytes

  (global $RET i32 (i32.const 160)) ;; our return area: tag, then 4 x u32
  (global $RP i32 (i32.const 192))  ;; the imports' return area: ptr, len
  (global $MSG i32 (i32.const 256)) ;; an error message, at most 72 bytes
  (global $msg_len (mut i32) (i32.const 0))

  (global $heap_base i32 (i32.const 1024))
  (global $heap (mut i32) (i32.const 1024))
  ;; Set when a handler returns: what it returned stays valid until the
  ;; guest is next entered, and only then may the heap be reused. Not at
  ;; handler entry, since the host allocates the arguments just before.
  (global $reset_pending (mut i32) (i32.const 0))

  (func $enter
    (if (global.get $reset_pending)
      (then
        (global.set $heap (global.get $heap_base))
        (global.set $reset_pending (i32.const 0)))))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  ;; A bump allocator; the host also calls it from inside message.request
  ;; to hand over the reply (or the error), which then lies on the heap
  ;; after the handler's arguments.
  (func (export "cabi_realloc")
    (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $p i32) (local $end i64)
    (call $enter)
    (if (i32.eqz (local.get $align)) (then (local.set $align (i32.const 1))))
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    ;; 64-bit arithmetic so that neither the end nor the memory size can wrap.
    (local.set $end (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $new_size))))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.sub
                      (i64.add (local.get $end) (i64.const 0xffff))
                      (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
                    (i64.const 16)))))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (if (local.get $old_ptr)
      (then
        (memory.copy (local.get $p) (local.get $old_ptr)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $p))

  ;; ok result: tag 0, then (state ptr, len) and (reply ptr, len); the
  ;; reply pair is ignored by the handlers without a reply.
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (global.get $RET) (i32.const 0))
    (i32.store offset=4 (global.get $RET) (local.get $sp))
    (i32.store offset=8 (global.get $RET) (local.get $sl))
    (i32.store offset=12 (global.get $RET) (local.get $rp))
    (i32.store offset=16 (global.get $RET) (local.get $rl))
    (global.set $reset_pending (i32.const 1))
    (global.get $RET))

  ;; err result: tag 1, then (message ptr, len).
  (func $err (param $p i32) (param $l i32) (result i32)
    (i32.store (global.get $RET) (i32.const 1))
    (i32.store offset=4 (global.get $RET) (local.get $p))
    (i32.store offset=8 (global.get $RET) (local.get $l))
    (global.set $reset_pending (i32.const 1))
    (global.get $RET))

  ;; $append adds len bytes at p to the message at $MSG.
  (func $append (param $p i32) (param $l i32)
    (memory.copy (i32.add (global.get $MSG) (global.get $msg_len)) (local.get $p) (local.get $l))
    (global.set $msg_len (i32.add (global.get $msg_len) (local.get $l))))

  (func $append_byte (param $b i32)
    (i32.store8 (i32.add (global.get $MSG) (global.get $msg_len)) (local.get $b))
    (global.set $msg_len (i32.add (global.get $msg_len) (i32.const 1))))

  ;; $failed returns err "<prefix><status>", plus " (<case>)" when the
  ;; status is 1: the host then left the msgpack of a message.error
  ;; variant at $RP, a one-key map {case: payload} whose key is a fixstr
  ;; (81 a0|n <n bytes> ...).
  (func $failed (param $prefix i32) (param $prefix_len i32) (param $status i32) (result i32)
    (local $abs i32) (local $ep i32) (local $el i32) (local $n i32)
    (global.set $msg_len (i32.const 0))
    (call $append (local.get $prefix) (local.get $prefix_len))
    (local.set $abs (local.get $status))
    (if (i32.lt_s (local.get $status) (i32.const 0))
      (then
        (call $append_byte (i32.const 0x2d)) ;; '-'
        (local.set $abs (i32.sub (i32.const 0) (local.get $status)))))
    ;; The ABI's statuses are one digit; anything else is shown as '?'.
    (call $append_byte
      (select (i32.add (i32.const 0x30) (local.get $abs)) (i32.const 0x3f)
        (i32.le_u (local.get $abs) (i32.const 9))))
    (if (i32.eq (local.get $status) (i32.const 1))
      (then
        (local.set $ep (i32.load (global.get $RP)))
        (local.set $el (i32.load offset=4 (global.get $RP)))
        (local.set $n (i32.and (i32.load8_u offset=1 (local.get $ep)) (i32.const 0x1f)))
        (if (i32.and
              (i32.and
                (i32.ge_u (local.get $el) (i32.const 2))
                (i32.eq (i32.load8_u (local.get $ep)) (i32.const 0x81)))
              (i32.and
                (i32.eq (i32.and (i32.load8_u offset=1 (local.get $ep)) (i32.const 0xe0)) (i32.const 0xa0))
                (i32.le_u (i32.add (local.get $n) (i32.const 2)) (local.get $el))))
          (then
            (call $append_byte (i32.const 0x20)) ;; ' '
            (call $append_byte (i32.const 0x28)) ;; '('
            (call $append (i32.add (local.get $ep) (i32.const 2)) (local.get $n))
            (call $append_byte (i32.const 0x29)))))) ;; ')'
    (call $err (global.get $MSG) (global.get $msg_len)))

  ;; init: the state is the target's id; refuse to start without one.
  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $enter)
    (if (i32.eqz (local.get $sl)) (then (return (call $err (i32.const 112) (i32.const 44)))))
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  ;; handle-send: message.send(to = state, payload = msg); state unchanged.
  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $status i32)
    (call $enter)
    (i64.store (global.get $RP) (i64.const 0))
    (local.set $status
      (call $send (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml) (global.get $RP)))
    (if (local.get $status)
      (then (return (call $failed (i32.const 16) (i32.const 31) (local.get $status)))))
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  ;; handle-request: message.request(to = state, payload = msg, timeout 0:
  ;; the handler deadline); the reply is the target's reply, which the
  ;; host wrote to the heap; state unchanged.
  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $status i32)
    (call $enter)
    (i64.store (global.get $RP) (i64.const 0))
    (local.set $status
      (call $request (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml) (i32.const 0) (global.get $RP)))
    (if (local.get $status)
      (then (return (call $failed (i32.const 64) (i32.const 34) (local.get $status)))))
    (call $ok (local.get $sp) (local.get $sl)
      (i32.load (global.get $RP)) (i32.load offset=4 (global.get $RP)))))
