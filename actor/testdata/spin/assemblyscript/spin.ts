// An actor whose send and request handlers loop forever.
import * as theater from "../../../guest/assemblyscript/theater";
export { cabi_realloc, theater_abi_version } from "../../../guest/assemblyscript/theater";

export let sink: i32 = 0;

function spin(): void {
  for (let i = 0; ; i++) sink = i;
}

export function theater_init(sp: usize, sl: usize): usize {
  return theater.init(sp, sl, (state: Uint8Array): theater.Result => theater.ok(state));
}

export function theater_handle_send(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleSend(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result => {
    spin();
    return theater.ok(state);
  });
}

export function theater_handle_request(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleRequest(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result => {
    spin();
    return theater.ok(state);
  });
}
