// End-to-end encryption the way LiveKit Meet does it: a key shared in the link's fragment
// (`#key=...`), which browsers never send to a server, so Parley and LiveKit only ever
// forward media they cannot read. This file has no livekit-client import: the rooms page's
// invite links use it, and its script stays small.

const fragmentKey = 'key';

/** The meeting key in this page's URL fragment, or null when the meeting is not encrypted. */
export function keyFromLocation(hash: string = window.location.hash): string | null {
  const k = new URLSearchParams(hash.replace(/^#/, '')).get(fragmentKey);
  return k && k.length >= 16 ? k : null;
}

/** A new random key: 32 bytes, base64url, so it travels in a link unchanged. */
export function newKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Puts the key in (or, with null, takes it out of) this page's fragment, without a reload. */
export function setLocationKey(key: string | null): void {
  const u = new URL(window.location.href);
  u.hash = key ? `${fragmentKey}=${key}` : '';
  history.replaceState(history.state, '', u.toString());
}

/** link with the meeting key in its fragment (when there is one). */
export function withKey(link: string, key: string | null): string {
  if (!key) return link;
  const u = new URL(link);
  u.hash = `${fragmentKey}=${key}`;
  return u.toString();
}
