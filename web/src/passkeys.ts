// WebAuthn in the browser: the server's options carry binary members in base64url (the
// JSON form of the WebAuthn spec); navigator.credentials wants ArrayBuffers and answers
// with them. These convert both ways, so no browser needs parseCreationOptionsFromJSON
// or PublicKeyCredential.toJSON.
import { t } from './i18n';

export function fromB64url(s: string): ArrayBuffer {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export function toB64url(buf: ArrayBuffer | ArrayBufferView | null | undefined): string {
  if (!buf) return '';
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface Descriptor {
  id: string;
  type: string;
  transports?: string[];
}

/** A server ceremony: options.publicKey goes to navigator.credentials. */
export interface CeremonyJSON {
  ceremony: string;
  options: { publicKey: Record<string, unknown> };
}

const descriptors = (list: unknown) =>
  ((list as Descriptor[] | undefined) ?? []).map((d) => ({ ...d, id: fromB64url(d.id) }) as PublicKeyCredentialDescriptor);

export function creationOptions(c: CeremonyJSON): PublicKeyCredentialCreationOptions {
  const pk = c.options.publicKey as Record<string, any>;
  return {
    ...pk,
    challenge: fromB64url(pk.challenge),
    user: { ...pk.user, id: fromB64url(pk.user.id) },
    excludeCredentials: descriptors(pk.excludeCredentials),
  } as PublicKeyCredentialCreationOptions;
}

export function requestOptions(c: CeremonyJSON): PublicKeyCredentialRequestOptions {
  const pk = c.options.publicKey as Record<string, any>;
  return { ...pk, challenge: fromB64url(pk.challenge), allowCredentials: descriptors(pk.allowCredentials) } as PublicKeyCredentialRequestOptions;
}

/** The JSON the server parses (PublicKeyCredential.toJSON's shape). */
export function credentialJSON(cred: PublicKeyCredential): Record<string, unknown> {
  const r = cred.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  const response: Record<string, unknown> = { clientDataJSON: toB64url(r.clientDataJSON) };
  if ('attestationObject' in r && r.attestationObject) {
    response.attestationObject = toB64url(r.attestationObject);
    response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
  } else {
    response.authenticatorData = toB64url(r.authenticatorData);
    response.signature = toB64url(r.signature);
    if (r.userHandle) response.userHandle = toB64url(r.userHandle);
  }
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: cred.getClientExtensionResults?.() ?? {},
    response,
  };
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

/** A cancelled or refused browser prompt, said in words (the DOMException's own are technical). */
export function passkeyPromptError(err: unknown): unknown {
  if (err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'AbortError'))
    return t('The passkey prompt was cancelled or timed out, or this device has no passkey for this server.');
  if (err instanceof DOMException && err.name === 'InvalidStateError') return t('This device holds a passkey of your account already.');
  if (err instanceof DOMException && err.name === 'SecurityError')
    return t('This browser refuses passkeys for this address: open Parley at its configured public URL (https, or localhost).');
  return err;
}
