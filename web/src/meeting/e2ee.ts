// livekit-client's side of end-to-end encryption (the key itself: ../e2eeKey).
import { ExternalE2EEKeyProvider, type E2EEOptions } from 'livekit-client';

/** livekit-client's encryption options for one Room: its own worker (a Room's E2EE manager
 * ends the worker with the Room) and a key provider holding the shared key, usable once
 * `ready` resolves. */
export function encryptionFor(key: string): { options: E2EEOptions; ready: Promise<void>; worker: Worker } {
  const keyProvider = new ExternalE2EEKeyProvider();
  const ready = keyProvider.setKey(key);
  const worker = new Worker(new URL('livekit-client/e2ee-worker', import.meta.url), { type: 'module' });
  dropStatusOfDeparted(worker);
  return { options: { keyProvider, worker }, ready, worker };
}

/** Whether this browser can encrypt media end to end (encoded transforms). */
export function e2eeSupported(): boolean {
  return typeof RTCRtpSender !== 'undefined' && ('createEncodedStreams' in RTCRtpSender.prototype || 'RTCRtpScriptTransform' in window);
}

const departedStatus = "couldn't set encryption status, participant not found";

/** The worker confirms each participant's encryption status a moment after livekit-client asks
 * for it; when that participant has left meanwhile, livekit-client's message handler throws,
 * uncaught, out of the worker's message event (a loaded CI run saw it as someone left the
 * meeting). The status of someone gone is moot, so that one error is dropped; any other still
 * reaches the page. livekit-client sets `onmessage`, so the handler it sets is wrapped. */
export function dropStatusOfDeparted(worker: Worker): void {
  let proto: object | null = Object.getPrototypeOf(worker);
  let accessor: PropertyDescriptor | undefined;
  while (proto && !(accessor = Object.getOwnPropertyDescriptor(proto, 'onmessage'))) proto = Object.getPrototypeOf(proto);
  if (!accessor?.set || !accessor.get) return;
  const { get, set } = accessor;
  Object.defineProperty(worker, 'onmessage', {
    configurable: true,
    get: () => get.call(worker),
    set: (handler: ((this: Worker, ev: MessageEvent) => unknown) | null) => {
      set.call(
        worker,
        handler &&
          function (this: Worker, ev: MessageEvent) {
            try {
              return handler.call(this, ev);
            } catch (e) {
              if (e instanceof TypeError && e.message.startsWith(departedStatus)) return undefined;
              throw e;
            }
          },
      );
    },
  });
}
