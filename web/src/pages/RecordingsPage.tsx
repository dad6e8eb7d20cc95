import { useEffect, useState } from 'react';
import { api, path } from '../api';
import type { Recording } from '../api/types';
import { downloadRecording, loadRecordingList } from './recordingFiles';
import { useAuth } from '../auth';
import { formatBytes, formatDuration } from '../state/admin';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';
import { t } from '../i18n';

/** Fetches a recording with the bearer token (a <video> cannot send headers) as an object URL. */
async function recordingBlobURL(id: string): Promise<string> {
  const res = await api.raw('GET', path`/api/recordings/${id}/file`);
  return URL.createObjectURL(await res.blob());
}

function statusText(s: Recording['status']): string {
  const names: Record<string, string> = {
    starting: t('starting'),
    active: t('recording'),
    ending: t('finishing'),
    complete: t('complete'),
    failed: t('failed'),
  };
  return names[s] ?? s;
}

export function RecordingsTable({ room = '' }: { room?: string }) {
  const { user } = useAuth();
  const recs = useLoad(() => loadRecordingList(user, room), [user?.id, user?.role, room]);
  const titleOf = (r: Recording) => r.roomTitle || r.room;
  const [playing, setPlaying] = useState<{ id: string; url: string } | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => () => void (playing && URL.revokeObjectURL(playing.url)), [playing]);

  // Recordings in progress change by themselves: refresh until they settle.
  const unsettled = (recs.data ?? []).some(
    (r) => r.status === 'starting' || r.status === 'active' || r.status === 'ending' || (r.status === 'failed' && r.retryable),
  );
  const { reload } = recs;
  useEffect(() => {
    if (!unsettled) return;
    const t = setInterval(() => void reload(), 3000);
    return () => clearInterval(t);
  }, [unsettled, reload]);

  async function play(r: Recording) {
    setError(null);
    try {
      setPlaying({ id: r.id, url: await recordingBlobURL(r.id) });
    } catch (e) {
      setError(e);
    }
  }
  async function download(r: Recording) {
    setError(null);
    try {
      await downloadRecording(r);
    } catch (e) {
      setError(e);
    }
  }

  const items = recs.data ?? [];
  return (
    <div>
      <ErrorBox error={recs.error || error} />
      {playing && (
        <div className="card player">
          <video src={playing.url} controls autoPlay aria-label={t('Recording playback')} data-testid="recording-player" />
          <button type="button" onClick={() => setPlaying(null)}>
            {t('Close player')}
          </button>
        </div>
      )}
      {!recs.loading && items.length === 0 && !recs.error && (
        <p className="muted" data-testid="no-recordings">
          {t('No recordings yet. Start one with the record button in a meeting you run; it shows up here when it ends.')}
        </p>
      )}
      {items.length > 0 && (
        <div className="table-wrap">
          <table data-testid="recordings-table">
            <thead>
              <tr>
                <th scope="col">{t('Room')}</th>
                <th scope="col">{t('Started')}</th>
                <th scope="col">{t('Status')}</th>
                <th scope="col">{t('Length')}</th>
                <th scope="col">{t('Size')}</th>
                <th scope="col">
                  <span className="sr-only">{t('Actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} data-testid="recording-row">
                  <td>{titleOf(r)}</td>
                  <td>{formatTime(r.startedAt)}</td>
                  <td>
                    {statusText(r.status)}
                    {r.error && <span className="muted small"> ({r.error})</span>}
                    {r.status === 'failed' && r.retryable && r.nextRetryAt && (
                      <span className="muted small" data-testid="recording-next-retry">
                        {' '}
                        {t('retrying at {time}', { time: formatTime(r.nextRetryAt) })}
                      </span>
                    )}
                  </td>
                  <td>{r.durationSeconds !== undefined ? formatDuration(r.durationSeconds) : '—'}</td>
                  <td>{formatBytes(r.sizeBytes)}</td>
                  <td className="row wrap">
                    {r.status === 'complete' && (
                      <>
                        <button type="button" aria-label={t('Play recording of {room} from {time}', { room: titleOf(r), time: formatTime(r.startedAt) })} onClick={() => play(r)}>
                          {t('Play')}
                        </button>
                        <button type="button" aria-label={t('Download recording of {room} from {time}', { room: titleOf(r), time: formatTime(r.startedAt) })} onClick={() => download(r)}>
                          {t('Download')}
                        </button>
                      </>
                    )}
                    {r.status === 'failed' && (
                      <button
                        type="button"
                        aria-label={t('Retry recording of {room} from {time}', { room: titleOf(r), time: formatTime(r.startedAt) })}
                        onClick={async () => {
                          setError(null);
                          try {
                            await api.post(path`/api/recordings/${r.id}/retry`);
                            await recs.reload();
                          } catch (e) {
                            setError(e);
                          }
                        }}
                      >
                        {t('Retry')}
                      </button>
                    )}
                    <ConfirmButton
                      label={t('Delete')}
                      confirmLabel={t('Confirm delete')}
                      ariaLabel={t('Delete recording of {room} from {time}', { room: titleOf(r), time: formatTime(r.startedAt) })}
                      onConfirm={async () => {
                        try {
                          await api.del(path`/api/recordings/${r.id}`);
                          await recs.reload();
                        } catch (e) {
                          setError(e);
                        }
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <button type="button" onClick={() => recs.reload()}>
        {t('Refresh')}
      </button>
    </div>
  );
}

export function RecordingsPage() {
  return (
    <section>
      <h1>{t('Recordings')}</h1>
      <RecordingsTable />
    </section>
  );
}
