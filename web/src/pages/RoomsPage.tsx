import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate } from '../router';
import { api, path } from '../api';
import type { List, Room } from '../api/types';
import { useAuth } from '../auth';
import { ErrorBox, useLoad } from '../ui';
import { RoomForm, type RoomInput } from './RoomForm';
import { CopyInvite } from '../invite';
import { t } from '../i18n';

// The waiting list loads with the first lobby room only: the rooms page is in the first script.
const LobbyList = lazy(() => import('../meeting/Lobby').then((m) => ({ default: m.LobbyList })));
const SchedulePanel = lazy(() => import('./SchedulePanel').then((m) => ({ default: m.SchedulePanel })));
const CalendarFeed = lazy(() => import('./CalendarFeed').then((m) => ({ default: m.CalendarFeed })));

export function RoomsPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const rooms = useLoad(() => api.get<List<Room>>('/api/rooms'), []);
  const [showForm, setShowForm] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [scheduling, setScheduling] = useState<string | null>(null);

  async function create(v: RoomInput) {
    const r = await api.post<Room>('/api/rooms', v);
    setShowForm(false);
    await rooms.reload();
    navigate(`/r/${encodeURIComponent(r.name)}`);
  }

  const items = rooms.data?.items ?? [];
  return (
    <section>
      <div className="row between">
        <h1>{t('Rooms')}</h1>
        <button type="button" className="primary" aria-expanded={showForm} onClick={() => setShowForm(!showForm)} data-testid="new-room">
          {showForm ? t('Cancel') : t('New room')}
        </button>
      </div>
      {showForm && (
        <div className="card">
          <h2>{t('New room')}</h2>
          <RoomForm onSubmit={create} />
        </div>
      )}
      <ErrorBox error={rooms.error || deleteError} />
      {!rooms.loading && items.length === 0 && !rooms.error && <p className="muted">{t('No rooms yet. Create one to start a meeting.')}</p>}
      <ul className="rooms" data-testid="room-list">
        {items.map((r) => (
          <li key={r.name} className="card room" data-testid="room-item" data-room={r.name}>
            <div>
              <h2>
                <Link to={`/r/${encodeURIComponent(r.name)}`}>{r.title || r.name}</Link>
              </h2>
              <p className="muted small">
                {r.name}
                {r.public && ` · ${t('public')}`}
                {r.allowGuests && ` · ${t('guests welcome')}`}
                {r.locked && ` · ${t('locked')}`}
                {r.lobby && ` · ${t('lobby')}`}
                {r.maxParticipants > 0 && ` · ${t('max {n}', { n: r.maxParticipants })}`}
                {r.active && ` · ${t('live now ({n})', { n: r.numParticipants ?? 0 })}`}
              </p>
              {r.lobby && r.inviteCode !== undefined && (
                <Suspense fallback={null}>
                  <LobbyList room={r.name} follow onNotice={(m) => setDeleteError(new Error(m))} />
                </Suspense>
              )}
              {scheduling === r.name && (
                <Suspense fallback={null}>
                  <SchedulePanel room={r.name} />
                </Suspense>
              )}
            </div>
            <div className="row wrap">
              <Link className="button primary" to={`/r/${encodeURIComponent(r.name)}`} aria-label={t('Join {room}', { room: r.title || r.name })}>
                {t('Join')}
              </Link>
              {r.inviteCode !== undefined && <CopyInvite room={r} />}
              {r.inviteCode !== undefined && (
                <button type="button" data-testid="schedule-toggle" aria-expanded={scheduling === r.name} onClick={() => setScheduling(scheduling === r.name ? null : r.name)}>
                  {t('Schedule')}
                </button>
              )}
              {(r.ownerId === user?.id || user?.role === 'admin') && (
                <button
                  type="button"
                  className="danger"
                  aria-label={t('Delete {room}', { room: r.title || r.name })}
                  onClick={async () => {
                    if (!window.confirm(t('Delete room "{room}"? A live meeting ends first.', { room: r.title || r.name }))) return;
                    try {
                      await api.del(path`/api/rooms/${r.name}`);
                      setDeleteError(null);
                      await rooms.reload();
                    } catch (e) {
                      setDeleteError(e);
                    }
                  }}
                >
                  {t('Delete')}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <Suspense fallback={null}>
        <CalendarFeed />
      </Suspense>
    </section>
  );
}
