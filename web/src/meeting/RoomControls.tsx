import { useEffect, useState } from 'react';
import { api, path } from '../api';
import type { List, Recording, Room } from '../api/types';
import { ConfirmButton, errorText } from '../ui';
import { t } from '../i18n';

const liveStatuses = new Set(['starting', 'active', 'ending']);

/** Moderator controls for the whole room: recording, lock, end for everyone. */
export function RoomControls({
  info,
  setInfo,
  onRecording,
  onNotice,
  encrypted,
}: {
  /** An end-to-end encrypted meeting: the server cannot read its media, so it cannot record it. */
  encrypted: boolean;
  info: Room;
  setInfo(r: Room): void;
  onRecording(active: boolean): void;
  onNotice(msg: string): void;
}) {
  const [recording, setRecording] = useState<Recording | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<List<Recording>>(`/api/recordings?room=${encodeURIComponent(info.name)}`)
      .then((l) => {
        const live = (l.items ?? []).find((r) => liveStatuses.has(r.status)) ?? null;
        setRecording(live);
        if (live) onRecording(true);
      })
      .catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [info.name]);

  // A stopping recording finishes in the background: follow it until it settles.
  const stoppingId = recording?.status === 'ending' ? recording.id : null;
  useEffect(() => {
    if (!stoppingId) return;
    const t = setInterval(() => {
      api
        .get<Recording>(path`/api/recordings/${stoppingId}`)
        .then((r) => r.status !== 'ending' && setRecording(r))
        .catch(() => undefined);
    }, 2000);
    return () => clearInterval(t);
  }, [stoppingId]);

  const act = async (what: string, f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
    } catch (e) {
      onNotice(`${what}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const isRecording = recording?.status === 'starting' || recording?.status === 'active';
  const stopping = recording?.status === 'ending';
  return (
    <div className="room-controls row wrap" role="group" aria-label={t('Room controls')}>
      <button
        type="button"
        className={isRecording ? 'danger' : undefined}
        disabled={busy || stopping || (encrypted && !isRecording)}
        aria-pressed={isRecording}
        title={encrypted ? t('An end-to-end encrypted meeting cannot be recorded: the server never sees its audio and video.') : undefined}
        data-testid="recording-toggle"
        onClick={() =>
          act(isRecording ? t('Stop recording') : t('Start recording'), async () => {
            if (isRecording && recording) {
              setRecording(await api.post<Recording>(path`/api/recordings/${recording.id}/stop`));
              onRecording(false);
            } else {
              setRecording(await api.post<Recording>(path`/api/rooms/${info.name}/recordings`));
              onRecording(true);
            }
          })
        }
      >
        {stopping ? t('Stopping recording…') : isRecording ? t('Stop recording') : t('Record')}
      </button>
      <button
        type="button"
        disabled={busy}
        aria-pressed={info.locked}
        data-testid="lock-toggle"
        onClick={() =>
          act(info.locked ? t('Unlock room') : t('Lock room'), async () => {
            setInfo(await api.patch<Room>(path`/api/rooms/${info.name}`, { locked: !info.locked }));
          })
        }
      >
        {info.locked ? t('Unlock room') : t('Lock room')}
      </button>
      <button
        type="button"
        disabled={busy}
        aria-pressed={info.lobby}
        data-testid="lobby-toggle"
        onClick={() =>
          act(info.lobby ? t('Lobby off') : t('Lobby on'), async () => {
            setInfo(await api.patch<Room>(path`/api/rooms/${info.name}`, { lobby: !info.lobby }));
          })
        }
      >
        {info.lobby ? t('Lobby on') : t('Lobby off')}
      </button>
      <ConfirmButton
        label={t('End meeting')}
        confirmLabel={t('Confirm end')}
        ariaLabel={t('End meeting for everyone')}
        testId="end-meeting"
        onConfirm={() => act(t('End meeting'), () => api.post(path`/api/rooms/${info.name}/end`))}
      />
    </div>
  );
}
