import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Room } from 'livekit-client';
import { api, path } from '../api';
import type { BreakoutSet } from '../api/types';
import { errorText } from '../ui';
import { t } from '../i18n';

/** Minutes and seconds left until iso, for the breakout timer. */
export function timeLeft(iso: string, now: number): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The countdown of a breakout room's timer, for everyone in it. */
export function BreakoutBadge({ n, endsAt }: { n: number; endsAt?: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!endsAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [endsAt]);
  return (
    <span className="badge" role="status" data-testid="breakout-badge" data-room={n}>
      {t('Breakout room {n}', { n })}
      {endsAt && ` · ${t('{time} left', { time: timeLeft(endsAt, now) })}`}
    </span>
  );
}

/** Moderators' breakout controls: split the meeting at random into N rooms with an optional
 * timer, see who is where, visit a room, go back to the main room, call everyone back. It
 * reloads on each `version` (the meeting bumps it on breakouts_changed events). */
export function BreakoutControls({ name, room, version, current, onVisit, onNotice }: {
  name: string;
  room: Room;
  version: number;
  /** The breakout room this moderator is in (0: the main room). */
  current: number;
  onVisit(n: number): void;
  onNotice(msg: string): void;
}) {
  const [set, setSet] = useState<BreakoutSet | null>(null);
  const [open, setOpen] = useState(false);
  const [rooms, setRooms] = useState(2);
  const [minutes, setMinutes] = useState(0);
  const [busy, setBusy] = useState(false);
  // Names are learnt from the main room before people leave it.
  const [names, setNames] = useState<Record<string, string>>({});
  const load = useCallback(() => {
    api
      .get<BreakoutSet>(path`/api/rooms/${name}/breakouts`)
      .then((b) => setSet(b.rooms.length > 0 ? b : null))
      .catch(() => undefined);
  }, [name]);
  useEffect(load, [load, version]);
  useEffect(() => {
    const seen: Record<string, string> = {};
    for (const p of room.remoteParticipants.values()) seen[p.identity] = p.name || p.identity;
    setNames((n) => ({ ...n, ...seen }));
  }, [room, version, open]);

  async function act(what: string, f: () => Promise<unknown>) {
    setBusy(true);
    try {
      await f();
    } catch (e) {
      onNotice(`${what}: ${errorText(e)}`);
    } finally {
      setBusy(false);
      load();
    }
  }
  function start(e: FormEvent) {
    e.preventDefault();
    void act(t('Breakout rooms'), async () => {
      await api.post<BreakoutSet>(path`/api/rooms/${name}/breakouts`, { rooms, random: true, durationMinutes: minutes });
      setOpen(false);
    });
  }

  if (!set) {
    return (
      <div className="breakouts">
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="breakout-open">
          {t('Breakout rooms')}
        </button>
        {open && (
          <form className="card breakout-form" onSubmit={start} data-testid="breakout-form">
            <label>
              {t('Rooms')}
              <input type="number" min={1} max={50} value={rooms} onChange={(e) => setRooms(Number(e.target.value) || 1)} data-testid="breakout-rooms" />
            </label>
            <label>
              {t('Minutes (0: until called back)')}
              <input type="number" min={0} max={1440} value={minutes} onChange={(e) => setMinutes(Number(e.target.value) || 0)} />
            </label>
            <p className="muted small">{t('Everyone who does not moderate is spread at random.')}</p>
            <button type="submit" className="primary" disabled={busy} data-testid="breakout-start">
              {t('Open breakout rooms')}
            </button>
          </form>
        )}
      </div>
    );
  }
  return (
    <div className="breakouts card" data-testid="breakout-list">
      <ul>
        {set.rooms.map((r) => (
          <li key={r.number} data-testid="breakout-room" data-room={r.number}>
            <span className="grow">
              {t('Room {n}: {people}', { n: r.number, people: r.identities.map((id) => names[id] ?? id).join(', ') || t('nobody') })}
            </span>
            {current !== r.number && (
              <button type="button" onClick={() => onVisit(r.number)} data-testid="breakout-visit">
                {t('Visit')}
              </button>
            )}
          </li>
        ))}
      </ul>
      <div className="row wrap">
        {current !== 0 && (
          <button type="button" onClick={() => onVisit(0)} data-testid="breakout-main">
            {t('Main room')}
          </button>
        )}
        <button type="button" className="primary" disabled={busy} onClick={() => void act(t('Call everyone back'), () => api.del(path`/api/rooms/${name}/breakouts`))} data-testid="breakout-end">
          {t('Call everyone back')}
        </button>
      </div>
    </div>
  );
}
