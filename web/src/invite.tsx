import { useState } from 'react';
import type { Room } from './api/types';
import { keyFromLocation, withKey } from './e2eeKey';
import { t } from './i18n';

/** The link that lets others in; from an encrypted meeting's page it carries the meeting key
 * in its fragment (never sent to the server). */
export function inviteLink(r: Room): string {
  const u = new URL(`/r/${encodeURIComponent(r.name)}`, window.location.origin);
  if (r.inviteCode) u.searchParams.set('invite', r.inviteCode);
  const here = window.location.pathname === u.pathname ? keyFromLocation() : null;
  return withKey(u.toString(), here);
}

/** Copies text to the clipboard, with a textarea fallback for insecure origins. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}

export function CopyInvite({ room }: { room: Room }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      aria-label={t('Copy invite link for {room}', { room: room.title || room.name })}
      onClick={async () => {
        await copyText(inviteLink(room));
        setDone(true);
        setTimeout(() => setDone(false), 2000);
      }}
    >
      {done ? t('Copied') : t('Copy invite link')}
    </button>
  );
}
