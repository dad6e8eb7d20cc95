import { useEffect, useRef, useState } from 'react';
import { UserPlus } from 'lucide-react';
import type { Room } from '../api/types';
import { CopyInvite, inviteLink } from '../invite';
import { t } from '../i18n';

/** The invite link as a QR code image (a data: URL), drawn on this device. */
export function InviteQR({ room, size = 180 }: { room: Room; size?: number }) {
  const [src, setSrc] = useState('');
  const link = inviteLink(room);
  useEffect(() => {
    let stopped = false;
    // qrcode is loaded only when a QR code is shown.
    void import('qrcode').then((q) =>
      q.toDataURL(link, { width: size, margin: 1 }).then((u) => {
        if (!stopped) setSrc(u);
      }),
    );
    return () => {
      stopped = true;
    };
  }, [link, size]);
  return src ? <img src={src} width={size} height={size} alt={t('QR code of the invite link for {room}', { room: room.title || room.name })} data-testid="invite-qr" /> : null;
}

/** The meeting's invite button: a popover with the link, a copy button and a QR code. */
export function InviteButton({ room }: { room: Room }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="popover-anchor" ref={ref}>
      <button type="button" className="icon" aria-label={t('Invite people')} aria-expanded={open} data-tip={t('Invite people')} data-testid="invite" onClick={() => setOpen(!open)}>
        <UserPlus aria-hidden="true" size={20} />
      </button>
      {open && (
        <div className="popover" role="dialog" aria-label={t('Invite people')}>
          <p className="small">{t('Share this link, or let others scan the code:')}</p>
          <input readOnly value={inviteLink(room)} aria-label={t('Invite link')} onFocus={(e) => e.target.select()} />
          <InviteQR room={room} />
          <CopyInvite room={room} />
        </div>
      )}
    </div>
  );
}
