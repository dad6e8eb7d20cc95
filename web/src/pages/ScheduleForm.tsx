import { useState, type FormEvent } from 'react';
import type { Schedule } from '../api/types';
import { t } from '../i18n';
import { ErrorBox } from '../ui';

/** What the create and edit forms send (the API's schedule input). */
export interface ScheduleInput {
  title: string;
  start: string;
  end: string;
  timeZone: string;
  rrule: string;
  invitees: string[];
  lobbyOpensMinutes: number;
  autoRecord: boolean;
}

const weeklyRule = /^FREQ=WEEKLY;COUNT=(\d+)$/;

/** The form of a schedule: new (in the browser's time zone) or an existing one (in its own). */
export function ScheduleForm({
  schedule,
  zone,
  submitLabel,
  testId,
  onSubmit,
  onCancel,
}: {
  schedule?: Schedule;
  zone: string;
  submitLabel: string;
  testId: string;
  onSubmit(v: ScheduleInput): Promise<void>;
  onCancel?(): void;
}) {
  const count = schedule?.rrule?.match(weeklyRule)?.[1];
  const [v, setV] = useState({
    title: schedule?.title ?? '',
    start: schedule?.start ?? '',
    end: schedule?.end ?? '',
    weekly: !!schedule?.rrule,
    count: count ? Number(count) : 10,
    invitees: (schedule?.invitees ?? []).join(', '),
    lobbyOpensMinutes: schedule?.lobbyOpensMinutes ?? 0,
    autoRecord: schedule?.autoRecord ?? false,
  });
  // A rule the form cannot show (not "weekly, n times") is kept unless the repeat is changed.
  const [repeatTouched, setRepeatTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const timeZone = schedule?.timeZone ?? zone;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const rrule = !repeatTouched && schedule ? (schedule.rrule ?? '') : v.weekly ? `FREQ=WEEKLY;COUNT=${v.count}` : '';
      await onSubmit({
        title: v.title,
        start: v.start,
        end: v.end,
        timeZone,
        rrule,
        invitees: v.invitees.split(/[\s,]+/).filter(Boolean),
        lobbyOpensMinutes: v.lobbyOpensMinutes,
        autoRecord: v.autoRecord,
      });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const repeat = (p: Partial<typeof v>) => {
    setRepeatTouched(true);
    setV({ ...v, ...p });
  };

  return (
    <form onSubmit={submit} className="row wrap" data-testid={testId}>
      <label>
        {t('Title')}
        <input name="title" value={v.title} onChange={(e) => setV({ ...v, title: e.target.value })} />
      </label>
      <label>
        {t('Start ({zone})', { zone: timeZone })}
        <input name="start" type="datetime-local" required value={v.start} onChange={(e) => setV({ ...v, start: e.target.value })} />
      </label>
      <label>
        {t('End')}
        <input name="end" type="datetime-local" required value={v.end} onChange={(e) => setV({ ...v, end: e.target.value })} />
      </label>
      <label className="check">
        <input name="weekly" type="checkbox" checked={v.weekly} onChange={(e) => repeat({ weekly: e.target.checked })} />
        {t('Weekly')}
      </label>
      <label>
        {t('Times')}
        <input
          name="count"
          type="number"
          min={1}
          max={500}
          disabled={!v.weekly}
          value={v.count}
          onChange={(e) => repeat({ count: Number(e.target.value) || 1 })}
        />
      </label>
      <label>
        {t('Invitees (e-mail)')}
        <input name="invitees" value={v.invitees} onChange={(e) => setV({ ...v, invitees: e.target.value })} />
      </label>
      <label>
        {t('Lobby opens (minutes before)')}
        <input
          name="lobbyOpensMinutes"
          type="number"
          min={0}
          max={1440}
          value={v.lobbyOpensMinutes}
          onChange={(e) => setV({ ...v, lobbyOpensMinutes: Number(e.target.value) || 0 })}
        />
      </label>
      <label className="check">
        <input name="autoRecord" type="checkbox" checked={v.autoRecord} onChange={(e) => setV({ ...v, autoRecord: e.target.checked })} />
        {t('Record while it runs')}
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid={`${testId}-submit`}>
        {submitLabel}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          {t('Cancel')}
        </button>
      )}
      <ErrorBox error={error} />
    </form>
  );
}
