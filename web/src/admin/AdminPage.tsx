import { useEffect, useMemo, useState } from 'react';
import { api, path } from '../api';
import type { List, LiveRoom, Overview, Participant } from '../api/types';
import { formatDuration } from '../state/admin';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';
import { useAuth } from '../auth';
import { RecordingsTable } from '../pages/RecordingsPage';
import { AdminAudit } from './AdminAudit';
import { AdminDoctor } from './AdminDoctor';
import { AdminKeys } from './AdminKeys';
import { AdminUsers } from './AdminUsers';
import { AdminWebhooks } from './AdminWebhooks';
import { debounce, useAdminEvents, type StreamStatus } from './events';
import { UsageChart } from './UsageChart';
import { formatNumber, t } from '../i18n';

const streamLabel: Record<StreamStatus, () => string> = {
  live: () => t('Live updates'),
  connecting: () => t('Connecting…'),
  down: () => t('Updates paused, retrying'),
  refused: () => t('Updates stopped'),
};

const countLabel: Record<string, () => string> = {
  users: () => t('users'),
  rooms: () => t('rooms'),
  activeRooms: () => t('active rooms'),
  participants: () => t('participants'),
  activeRecordings: () => t('active recordings'),
};

/** The operators' dashboard: LiveKit status, deployment checks, live rooms (kept fresh over SSE), users, recordings, usage. */
export function AdminPage() {
  const overview = useLoad(() => api.get<Overview>('/api/admin/overview'), []);
  const rooms = useLoad(async () => (await api.get<List<LiveRoom>>('/api/admin/rooms')).items, []);
  const refetch = useMemo(
    () =>
      debounce(() => {
        void rooms.reload();
        void overview.reload();
      }, 300),
    [rooms.reload, overview.reload],
  );
  useEffect(() => () => refetch.cancel(), [refetch]);
  const [refused, setRefused] = useState('');
  const { reload } = useAuth();
  const stream = useAdminEvents(
    () => refetch(),
    (message) => {
      setRefused(message);
      // A demoted administrator: the header and this page follow the new role.
      void reload();
    },
  );

  // A slow poll covers a stream that cannot connect (proxies that buffer SSE, for one).
  useEffect(() => {
    if (stream === 'live' || stream === 'refused') return;
    const t = setInterval(refetch, 10_000);
    return () => clearInterval(t);
  }, [stream, refetch]);

  return (
    <div className="admin">
      <h1>{t('Admin')}</h1>
      <Status overview={overview.data} error={overview.error} />
      <AdminDoctor />
      <section aria-labelledby="live-h">
        <div className="row between">
          <h2 id="live-h">{t('Live rooms')}</h2>
          <span className={`badge ${stream === 'live' ? 'ok' : 'warn'}`} role="status" data-testid="events-status" data-state={stream}>
            {streamLabel[stream]()}
          </span>
        </div>
        {refused && (
          <p className="error" role="alert" data-testid="events-refused">
            {t('Live updates stopped: your account may no longer follow them (the server says: {reason}). Reload the page once your rights are back.', { reason: refused })}
          </p>
        )}
        <ErrorBox error={rooms.error} />
        {rooms.data && rooms.data.length === 0 && <p className="muted">{t('No meetings right now.')}</p>}
        <ul className="live-rooms" data-testid="admin-rooms">
          {(rooms.data ?? []).map((r) => (
            <LiveRoomCard key={r.name} r={r} onChange={refetch} />
          ))}
        </ul>
      </section>
      <AdminUsers />
      <AdminWebhooks />
      <AdminKeys />
      <AdminAudit />
      <section aria-labelledby="rec-h">
        <h2 id="rec-h">{t('Recordings')}</h2>
        <RecordingsTable />
      </section>
    </div>
  );
}

function Status({ overview, error }: { overview?: Overview; error: unknown }) {
  const lk = overview?.livekit;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const started = lk?.startedAt ? Date.parse(lk.startedAt) : NaN;
  const usage = overview?.usage;
  return (
    <section aria-labelledby="status-h">
      <h2 id="status-h">{t('Status')}</h2>
      <ErrorBox error={error} />
      <dl className="stats" data-testid="livekit-status">
        <div>
          <dt>LiveKit</dt>
          <dd data-testid="livekit-state" className={lk?.state === 'ready' ? 'ok' : 'error'}>
            {lk?.state === 'ready' ? t('ready') : (lk?.state ?? '—')}
          </dd>
          {lk?.reason && <dd className="small muted">{lk.reason}</dd>}
        </div>
        <div>
          <dt>{t('Mode')}</dt>
          <dd>{lk?.mode ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('Version')}</dt>
          <dd>{lk?.version ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('Restarts')}</dt>
          <dd>{lk?.restarts !== undefined ? formatNumber(lk.restarts) : '—'}</dd>
        </div>
        <div>
          <dt>{t('Uptime')}</dt>
          <dd title={formatTime(lk?.startedAt)}>{Number.isNaN(started) ? '—' : formatDuration((now - started) / 1000)}</dd>
        </div>
        {Object.entries(overview?.counts ?? {}).map(([k, v]) => (
          <div key={k}>
            <dt>{countLabel[k]?.() ?? k.replace(/([A-Z])/g, ' $1').toLowerCase()}</dt>
            <dd>{formatNumber(v)}</dd>
          </div>
        ))}
        {usage?.participantMinutes !== undefined && (
          <div>
            <dt>{t('participant minutes')}</dt>
            <dd>{formatNumber(Math.round(usage.participantMinutes))}</dd>
          </div>
        )}
        {usage?.peakConcurrency !== undefined && (
          <div>
            <dt>{t('peak concurrency')}</dt>
            <dd>{formatNumber(usage.peakConcurrency)}</dd>
          </div>
        )}
      </dl>
      {lk?.restartLog && lk.restartLog.length > 0 && (
        <table className="small compact" data-testid="livekit-restarts">
          <caption className="muted">{t('LiveKit restarts (most recent first)')}</caption>
          <tbody>
            {[...lk.restartLog].reverse().map((r) => (
              <tr key={r.at + r.reason}>
                <th scope="row">{formatTime(r.at)}</th>
                <td>{r.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {usage && <UsageChart usage={usage} />}
      {usage?.byRoom && usage.byRoom.length > 0 && (
        <table className="small compact">
          <caption className="muted">{t('Busiest rooms (participant minutes)')}</caption>
          <tbody>
            {usage.byRoom.slice(0, 5).map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.title || r.key}</th>
                <td>{formatNumber(Math.round(r.participantMinutes))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LiveRoomCard({ r, onChange }: { r: LiveRoom; onChange(): void }) {
  const [error, setError] = useState<unknown>(null);
  const name = r.name;
  const title = r.title || name;
  const act = (f: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await f();
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <li className="card" data-testid="admin-room" data-room={name}>
      <div className="row between wrap">
        <h3>
          {title}
          {title !== name && <span className="muted small"> {name}</span>}
        </h3>
        <ConfirmButton label={t('End meeting')} confirmLabel={t('Confirm end')} ariaLabel={t('End meeting {title}', { title })} testId="admin-end" onConfirm={act(() => api.post(path`/api/rooms/${name}/end`))} />
      </div>
      <ErrorBox error={error} />
      <ul className="admin-people">
        {r.participants.map((p) => (
          <AdminParticipant key={p.identity} room={name} p={p} act={act} />
        ))}
        {r.participants.length === 0 && <li className="muted">{t('Nobody connected.')}</li>}
      </ul>
    </li>
  );
}

function AdminParticipant({ room, p, act }: { room: string; p: Participant; act(f: () => Promise<unknown>): () => Promise<void> }) {
  const base = path`/api/rooms/${room}/participants/${p.identity}`;
  const name = p.name || p.identity;
  const mic = p.tracks?.find((t) => t.source === 'microphone');
  const cam = p.tracks?.find((t) => t.source === 'camera');
  return (
    <li
      className="row between wrap"
      data-testid="admin-participant"
      data-identity={p.identity}
      data-name={name}
      data-mic={mic ? (mic.muted ? 'muted' : 'on') : 'unknown'}
    >
      <span>
        {name} <span className="muted small">{p.role === 'owner' ? t('owner') : p.role === 'moderator' ? t('moderator') : p.role === 'guest' ? t('guest') : p.role === 'participant' ? t('participant') : p.role}</span>{' '}
        <span className="muted small" data-testid="admin-tracks">
          {mic ? (mic.muted ? t('mic muted') : t('mic on')) : t('no mic')} · {cam ? (cam.muted ? t('camera off') : t('camera on')) : t('no camera')}
        </span>
      </span>
      <span className="row wrap">
        <button
          type="button"
          disabled={!!mic?.muted}
          aria-label={t('Mute {name}', { name })}
          data-testid="admin-mute"
          onClick={act(() => api.post(`${base}/mute`, { source: 'microphone', muted: true }))}
        >
          {t('Mute')}
        </button>
        <ConfirmButton label={t('Kick')} confirmLabel={t('Confirm kick')} ariaLabel={t('Kick {name}', { name })} testId="admin-kick" onConfirm={act(() => api.post(`${base}/kick`, {}))} />
      </span>
    </li>
  );
}
