/* An actor whose send and request handlers loop forever. */
#include "theater.h"

volatile int sink;

static void spin(void) {
  for (int i = 0;; i++) sink = i;
}

theater_result actor_init(theater_bytes state) { return theater_ok(state); }

theater_result actor_handle_send(theater_bytes state, theater_bytes msg) {
  (void)msg;
  spin();
  return theater_ok(state);
}

theater_result actor_handle_request(theater_bytes state, theater_bytes msg) {
  (void)msg;
  spin();
  return theater_ok(state);
}
