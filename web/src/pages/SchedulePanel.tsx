import { useState, type FormEvent } from 'react';
import { api, path } from '../api';
import type { List, Schedule } from '../api/types';
import { ErrorBox, useLoad } from '../ui';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** A link to an .ics route with the access token in the URL (downloads cannot send headers). */
async function icsLink(p: string): Promise<string> {
  const token = await api.freshAccessToken();
  return `${p}${p.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token ?? '')}`;
}

/** A room's scheduled meetings for its moderators: plan one (weekly if asked), see the next
 * occurrences, download one as .ics, remove it. */
export function SchedulePanel({ room }: { room: string }) {
  const list = useLoad(() => api.get<List<Schedule>>(path`/api/rooms/${room}/schedules`), [room]);
  const [v, setV] = useState({ start: '', end: '', weekly: false, count: 10, invitees: '', lobbyOpensMinutes: 0 });
  const [error, setError] = useState<unknown>(null);

  async function add(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await api.post(path`/api/rooms/${room}/schedules`, {
        start: v.start,
        end: v.end,
        timeZone: zone,
        rrule: v.weekly ? `FREQ=WEEKLY;COUNT=${v.count}` : '',
        invitees: v.invitees.split(/[\s,]+/).filter(Boolean),
        lobbyOpensMinutes: v.lobbyOpensMinutes,
      });
      await list.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function download(s: Schedule, at: string) {
    window.location.href = await icsLink(path`/api/rooms/${room}/schedules/${s.id}/ics` + `?start=${encodeURIComponent(at)}`);
  }

  return (
    <div className="schedule" data-testid="schedule-panel">
      <ul>
        {(list.data?.items ?? []).map((s) => (
          <li key={s.id} data-testid="schedule-item">
            {s.start.replace('T', ' ')} – {s.end.slice(11)} ({s.timeZone}){s.rrule && ` · ${s.rrule}`}
            <ul>
              {s.next.map((at) => (
                <li key={at}>
                  {new Date(at).toLocaleString()}{' '}
                  <button type="button" onClick={() => void download(s, at)}>
                    .ics
                  </button>
                </li>
              ))}
            </ul>
            <button type="button" className="danger" onClick={() => void api.del(path`/api/rooms/${room}/schedules/${s.id}`).then(list.reload, setError)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add} className="row wrap" data-testid="schedule-form">
        <label>
          Start ({zone})
          <input type="datetime-local" required value={v.start} onChange={(e) => setV({ ...v, start: e.target.value })} />
        </label>
        <label>
          End
          <input type="datetime-local" required value={v.end} onChange={(e) => setV({ ...v, end: e.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={v.weekly} onChange={(e) => setV({ ...v, weekly: e.target.checked })} />
          Weekly, {v.count} times
        </label>
        <label>
          Invitees (e-mail)
          <input value={v.invitees} onChange={(e) => setV({ ...v, invitees: e.target.value })} />
        </label>
        <label>
          Lobby opens (minutes before)
          <input type="number" min={0} max={1440} value={v.lobbyOpensMinutes} onChange={(e) => setV({ ...v, lobbyOpensMinutes: Number(e.target.value) || 0 })} />
        </label>
        <button type="submit" className="primary">
          Schedule
        </button>
      </form>
      <p className="muted small">
        <button type="button" onClick={() => void icsLink('/api/calendar.ics').then((u) => (window.location.href = u))}>
          Download my calendar (.ics)
        </button>
      </p>
      <ErrorBox error={error || list.error} />
    </div>
  );
}
