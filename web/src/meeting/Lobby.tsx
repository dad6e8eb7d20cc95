import { useCallback, useEffect, useState } from 'react';
import { LoaderCircle } from 'lucide-react';
import { api, ApiError, path } from '../api';
import type { JoinResponse, List, LobbyEntry, LobbyStatus, LobbyTicket } from '../api/types';
import { useEventStream } from '../admin/events';
import { errorText } from '../ui';
import { t } from '../i18n';

/** How long ago, in words a waiting list reads at a glance. */
function since(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return t('{n} s', { n: s });
  return t('{n} min', { n: Math.floor(s / 60) });
}

/** The ticking clock of the waiting list (the "since" figures). */
function useNow(every: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [every]);
  return now;
}

/** Who waits in a room's lobby, for its moderators, with admit and deny for each and all.
 * It reloads on every `version` change (the meeting bumps it on lobby events), or follows the
 * room's event stream itself when `follow` is set (the rooms page). */
export function LobbyList({ room, version = 0, follow = false, onNotice }: { room: string; version?: number; follow?: boolean; onNotice(msg: string): void }) {
  const [items, setItems] = useState<LobbyEntry[]>([]);
  const [busy, setBusy] = useState(false);
  const [own, setOwn] = useState(0);
  const now = useNow(5000);
  const reload = useCallback(() => {
    api
      .get<List<LobbyEntry>>(path`/api/rooms/${room}/lobby`)
      .then((l) => setItems(l.items ?? []))
      .catch(() => undefined);
  }, [room]);
  useEventStream(follow ? path`/api/rooms/${room}/events` : null, (e) => {
    if (e.type === 'lobby_changed' || e.type === 'open') setOwn((n) => n + 1);
  });
  useEffect(reload, [reload, version, own]);
  const waiting = items.filter((e) => Date.parse(e.expiresAt) > now);
  if (waiting.length === 0) return null;

  async function decide(what: 'admit' | 'deny', ticket?: string) {
    setBusy(true);
    try {
      await api.post(ticket ? path`/api/rooms/${room}/lobby/${ticket}/${what}` : path`/api/rooms/${room}/lobby/${what}`);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'ticket_closed')) onNotice(`${what === 'admit' ? t('Admit') : t('Deny')}: ${errorText(e)}`);
    } finally {
      setBusy(false);
      reload();
    }
  }

  return (
    <section className="lobby-list card" aria-label={t('Waiting in the lobby')} data-testid="lobby-list" data-count={waiting.length}>
      <h2>
        {waiting.length === 1 ? t('1 person waits to join') : t('{n} people wait to join', { n: waiting.length })}
      </h2>
      <ul>
        {waiting.map((e) => (
          <li key={e.ticket} data-testid="lobby-entry" data-name={e.name}>
            <span className="grow">
              {e.name}
              <span className="muted small">
                {' '}
                {e.guest ? t('guest') : t('signed in')} · {t('waiting {time}', { time: since(e.since, now) })}
              </span>
            </span>
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('admit', e.ticket)} data-testid="lobby-admit" aria-label={t('Admit {name}', { name: e.name })}>
              {t('Admit')}
            </button>
            <button type="button" disabled={busy} onClick={() => void decide('deny', e.ticket)} data-testid="lobby-deny" aria-label={t('Deny {name}', { name: e.name })}>
              {t('Deny')}
            </button>
          </li>
        ))}
      </ul>
      {waiting.length > 1 && (
        <div className="row">
          <button type="button" disabled={busy} onClick={() => void decide('admit')} data-testid="lobby-admit-all">
            {t('Admit all')}
          </button>
          <button type="button" disabled={busy} onClick={() => void decide('deny')} data-testid="lobby-deny-all">
            {t('Deny all')}
          </button>
        </div>
      )}
    </section>
  );
}

const closedText: Record<string, () => string> = {
  denied: () => t('A moderator declined your request to join this meeting.'),
  expired: () => t('Nobody let you in in time: your request to join expired.'),
};

/** The waiting screen of someone held in a room's lobby: it follows the ticket's stream until a
 * moderator admits (the meeting starts with the join answer it brings) or denies them. */
export function LobbyWait({ ticket, title, onAdmitted, onAgain, onLeave }: { ticket: LobbyTicket; title: string; onAdmitted(j: JoinResponse): void; onAgain(): void; onLeave(): void }) {
  const [st, setSt] = useState<LobbyStatus | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    const es = new EventSource(path`/api/lobby/${ticket.ticket}/events`);
    es.addEventListener('status', (m) => {
      const s = JSON.parse((m as MessageEvent).data) as LobbyStatus;
      if (s.status === 'admitted' && s.join) {
        es.close();
        onAdmitted(s.join);
        return;
      }
      if (s.status !== 'waiting') es.close();
      if (s.status === 'error') setProblem(s.error?.message ?? t('The lobby is unavailable.'));
      setSt(s);
    });
    es.onerror = () => {
      // The browser reconnects by itself; a ticket that no longer exists never answers again.
      if (es.readyState === EventSource.CLOSED) setProblem(t('The connection to the lobby was lost. Ask to join again.'));
    };
    return () => es.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ticket.ticket]);

  const status = st?.status ?? 'waiting';
  const leave = () => {
    void api.request('DELETE', path`/api/lobby/${ticket.ticket}`, undefined, { auth: 'none' }).catch(() => undefined);
    onLeave();
  };
  if (status === 'denied' || status === 'expired' || problem) {
    return (
      <section className="card narrow" data-testid="lobby-closed" data-status={problem ? 'error' : status}>
        <h1>{status === 'denied' ? t('Not admitted') : t('Could not join')}</h1>
        <p role="alert" data-testid="lobby-message">
          {problem || closedText[status]?.()}
        </p>
        <div className="row wrap">
          {status !== 'denied' && (
            <button type="button" className="primary" onClick={onAgain}>
              {t('Ask again')}
            </button>
          )}
          <button type="button" onClick={onLeave}>
            {t('Back')}
          </button>
        </div>
      </section>
    );
  }
  return (
    <section className="card narrow lobby-wait" data-testid="lobby-wait" data-moderator-present={st ? String(st.moderatorPresent) : 'unknown'}>
      <LoaderCircle className="spin" aria-hidden="true" size={36} />
      <h1>{t('Waiting to join {title}', { title })}</h1>
      <p role="status" data-testid="lobby-message">
        {st && !st.moderatorPresent
          ? t('No moderator is in the meeting yet. You will be let in once one arrives and admits you.')
          : t('A moderator has been told you are here and will let you in shortly.')}
      </p>
      {st?.position ? <p className="muted small">{t('Place in the queue: {n}', { n: st.position })}</p> : null}
      <button type="button" onClick={leave} data-testid="lobby-leave">
        {t('Leave')}
      </button>
    </section>
  );
}
