import { useState, type FormEvent } from 'react';
import type { Permissions, Room, Source } from '../api/types';
import { allSources, sourceLabels } from '../state/permissions';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

export type RoomInput = Pick<Room, 'title' | 'public' | 'allowGuests' | 'maxParticipants' | 'lobby' | 'lobbyUsers'> & {
  defaultPermissions: Permissions;
};

const defaults: RoomInput = {
  title: '',
  public: false,
  allowGuests: false,
  maxParticipants: 0,
  lobby: false,
  lobbyUsers: false,
  defaultPermissions: { canPublish: true, canSubscribe: true, canPublishData: true, canPublishSources: [...allSources] },
};

/** The create-room form with its settings. */
export function RoomForm({ onSubmit }: { onSubmit(r: RoomInput): Promise<void> }) {
  const [v, setV] = useState<RoomInput>(defaults);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const perms = v.defaultPermissions;
  const setPerm = (p: Partial<Permissions>) => setV({ ...v, defaultPermissions: { ...perms, ...p } });
  const toggleSource = (s: Source, on: boolean) =>
    setPerm({ canPublishSources: on ? [...perms.canPublishSources, s] : perms.canPublishSources.filter((x) => x !== s) });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(v);
      setV(defaults);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="room-form" data-testid="create-room-form">
      <label>
        {t('Title')}
        <input name="title" required value={v.title} onChange={(e) => setV({ ...v, title: e.target.value })} />
      </label>
      <div className="row wrap">
        <label className="check">
          <input type="checkbox" name="public" checked={v.public} onChange={(e) => setV({ ...v, public: e.target.checked })} />
          {t('Public (listed for every user)')}
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="allowGuests"
            checked={v.allowGuests}
            onChange={(e) => setV({ ...v, allowGuests: e.target.checked })}
          />
          {t('Allow guests without an account')}
        </label>
        <label className="check">
          <input type="checkbox" name="lobby" checked={v.lobby} onChange={(e) => setV({ ...v, lobby: e.target.checked })} />
          {t('Lobby: a moderator lets guests in')}
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="lobbyUsers"
            disabled={!v.lobby}
            checked={v.lobbyUsers}
            onChange={(e) => setV({ ...v, lobbyUsers: e.target.checked })}
          />
          {t('Signed-in users wait in the lobby too')}
        </label>
        <label className="inline">
          {t('Max participants (0 = no limit)')}
          <input
            name="maxParticipants"
            type="number"
            min={0}
            max={1000}
            value={v.maxParticipants}
            onChange={(e) => setV({ ...v, maxParticipants: Number(e.target.value) || 0 })}
          />
        </label>
      </div>
      <fieldset>
        <legend>{t('Default permissions for participants')}</legend>
        <div className="row wrap">
          <label className="check">
            <input type="checkbox" checked={perms.canPublish} onChange={(e) => setPerm({ canPublish: e.target.checked })} />
            {t('May publish media')}
          </label>
          <label className="check">
            <input type="checkbox" checked={perms.canPublishData} onChange={(e) => setPerm({ canPublishData: e.target.checked })} />
            {t('May chat and raise hand')}
          </label>
          <label className="check">
            <input type="checkbox" checked={perms.canSubscribe} onChange={(e) => setPerm({ canSubscribe: e.target.checked })} />
            {t('May watch and listen')}
          </label>
        </div>
        <div className="row wrap">
          {allSources.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                disabled={!perms.canPublish}
                checked={perms.canPublishSources.includes(s)}
                onChange={(e) => toggleSource(s, e.target.checked)}
              />
              {sourceLabels[s]}
            </label>
          ))}
        </div>
      </fieldset>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy} data-testid="create-room-submit">
        {t('Create room')}
      </button>
    </form>
  );
}
