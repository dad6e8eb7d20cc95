import { useState } from 'react';
import { api, path } from '../api';
import type { List, Schedule } from '../api/types';
import { t } from '../i18n';
import { ConfirmButton, ErrorBox, useLoad } from '../ui';
import { ScheduleForm, type ScheduleInput } from './ScheduleForm';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** A link to an .ics route with the access token in the URL (downloads cannot send headers). */
async function icsLink(p: string): Promise<string> {
  const token = await api.freshAccessToken();
  return `${p}${p.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token ?? '')}`;
}

/** A room's scheduled meetings for its moderators: plan one (weekly if asked), see the next
 * occurrences, download one as .ics, cancel one, edit or remove the schedule. */
export function SchedulePanel({ room }: { room: string }) {
  const list = useLoad(() => api.get<List<Schedule>>(path`/api/rooms/${room}/schedules`), [room]);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function add(v: ScheduleInput) {
    await api.post(path`/api/rooms/${room}/schedules`, v);
    await list.reload();
  }
  async function save(s: Schedule, v: ScheduleInput) {
    await api.patch(path`/api/rooms/${room}/schedules/${s.id}`, v);
    setEditing(null);
    await list.reload();
  }
  async function act(f: () => Promise<unknown>) {
    setError(null);
    try {
      await f();
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
          <li key={s.id} data-testid="schedule-item" data-schedule={s.id}>
            <strong>{s.title}</strong> · {s.start.replace('T', ' ')} – {s.end.slice(11)} ({s.timeZone}){s.rrule && ` · ${s.rrule}`}
            {s.autoRecord && <span className="muted small"> · {t('recorded')}</span>}
            {s.invitees.length > 0 && <span className="muted small"> · {t('Invited: {list}', { list: s.invitees.join(', ') })}</span>}
            {editing === s.id ? (
              <ScheduleForm
                schedule={s}
                zone={zone}
                submitLabel={t('Save')}
                testId="schedule-edit-form"
                onSubmit={(v) => save(s, v)}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <>
                <ul>
                  {s.next.map((at) => (
                    <li key={at} data-testid="occurrence" data-start={at}>
                      {new Date(at).toLocaleString()}{' '}
                      <button type="button" data-testid="occurrence-ics" onClick={() => void download(s, at)}>
                        .ics
                      </button>{' '}
                      <ConfirmButton
                        label={t('Cancel this occurrence')}
                        confirmLabel={t('Yes, cancel it')}
                        ariaLabel={t('Cancel the meeting of {when}', { when: new Date(at).toLocaleString() })}
                        testId="occurrence-cancel"
                        onConfirm={() => act(() => api.post(path`/api/rooms/${room}/schedules/${s.id}/cancel`, { start: at }))}
                      />
                    </li>
                  ))}
                </ul>
                {s.next.length === 0 && <p className="muted small">{t('No upcoming occurrences.')}</p>}
                <button type="button" data-testid="schedule-edit" onClick={() => setEditing(s.id)}>
                  {t('Edit')}
                </button>{' '}
                <ConfirmButton
                  label={t('Remove')}
                  confirmLabel={t('Remove the schedule')}
                  ariaLabel={t('Remove the schedule {title}', { title: s.title })}
                  testId="schedule-remove"
                  onConfirm={() => act(() => api.del(path`/api/rooms/${room}/schedules/${s.id}`))}
                />
              </>
            )}
          </li>
        ))}
      </ul>
      <ScheduleForm zone={zone} submitLabel={t('Schedule')} testId="schedule-form" onSubmit={add} />
      <p className="muted small">
        <button type="button" onClick={() => void icsLink('/api/calendar.ics').then((u) => (window.location.href = u))}>
          {t('Download my calendar (.ics)')}
        </button>
      </p>
      <ErrorBox error={error || list.error} />
    </div>
  );
}
