// livekit-client's side of end-to-end encryption (the key itself: ../e2eeKey).
import { ExternalE2EEKeyProvider, type E2EEOptions } from 'livekit-client';

/** livekit-client's encryption options for one Room: its own worker (a Room's E2EE manager
 * ends the worker with the Room) and a key provider holding the shared key, usable once
 * `ready` resolves. */
export function encryptionFor(key: string): { options: E2EEOptions; ready: Promise<void>; worker: Worker } {
  const keyProvider = new ExternalE2EEKeyProvider();
  const ready = keyProvider.setKey(key);
  const worker = new Worker(new URL('livekit-client/e2ee-worker', import.meta.url), { type: 'module' });
  return { options: { keyProvider, worker }, ready, worker };
}

/** Whether this browser can encrypt media end to end (encoded transforms). */
export function e2eeSupported(): boolean {
  return typeof RTCRtpSender !== 'undefined' && ('createEncodedStreams' in RTCRtpSender.prototype || 'RTCRtpScriptTransform' in window);
}
