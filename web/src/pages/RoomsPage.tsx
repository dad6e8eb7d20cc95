import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate } from '../router';
import { api, path } from '../api';
import type { List, Room } from '../api/types';
import { useAuth } from '../auth';
import { ErrorBox, useLoad } from '../ui';
import { RoomForm, type RoomInput } from './RoomForm';
import { CopyInvite } from '../invite';

// The waiting list loads with the first lobby room only: the rooms page is in the first script.
const LobbyList = lazy(() => import('../meeting/Lobby').then((m) => ({ default: m.LobbyList })));
const SchedulePanel = lazy(() => import('./SchedulePanel').then((m) => ({ default: m.SchedulePanel })));

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
        <h1>Rooms</h1>
        <button type="button" className="primary" aria-expanded={showForm} onClick={() => setShowForm(!showForm)} data-testid="new-room">
          {showForm ? 'Cancel' : 'New room'}
        </button>
      </div>
      {showForm && (
        <div className="card">
          <h2>New room</h2>
          <RoomForm onSubmit={create} />
        </div>
      )}
      <ErrorBox error={rooms.error || deleteError} />
      {!rooms.loading && items.length === 0 && !rooms.error && <p className="muted">No rooms yet. Create one to start a meeting.</p>}
      <ul className="rooms" data-testid="room-list">
        {items.map((r) => (
          <li key={r.name} className="card room" data-testid="room-item" data-room={r.name}>
            <div>
              <h2>
                <Link to={`/r/${encodeURIComponent(r.name)}`}>{r.title || r.name}</Link>
              </h2>
              <p className="muted small">
                {r.name}
                {r.public && ' · public'}
                {r.allowGuests && ' · guests welcome'}
                {r.locked && ' · locked'}
                {r.lobby && ' · lobby'}
                {r.maxParticipants > 0 && ` · max ${r.maxParticipants}`}
                {r.active && ` · live now (${r.numParticipants ?? 0})`}
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
              <Link className="button primary" to={`/r/${encodeURIComponent(r.name)}`} aria-label={`Join ${r.title || r.name}`}>
                Join
              </Link>
              {r.inviteCode !== undefined && <CopyInvite room={r} />}
              {r.inviteCode !== undefined && (
                <button type="button" aria-expanded={scheduling === r.name} onClick={() => setScheduling(scheduling === r.name ? null : r.name)}>
                  Schedule
                </button>
              )}
              {(r.ownerId === user?.id || user?.role === 'admin') && (
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${r.title || r.name}`}
                  onClick={async () => {
                    if (!window.confirm(`Delete room "${r.title || r.name}"? A live meeting ends first.`)) return;
                    try {
                      await api.del(path`/api/rooms/${r.name}`);
                      setDeleteError(null);
                      await rooms.reload();
                    } catch (e) {
                      setDeleteError(e);
                    }
                  }}
                >
                  Delete
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
