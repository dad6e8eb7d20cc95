import { useEffect, useState } from 'react';
import type { Participant as LKParticipant, Room as LKRoom } from 'livekit-client';
import { api, path } from '../api';
import type { List, Participant, Permissions, Room, Source } from '../api/types';
import { participantMeta, sortParticipants } from '../state/meeting';
import { allSources, fromLiveKit, sourceLabels, type Moderation } from '../state/permissions';
import { ConfirmButton, errorText } from '../ui';
import { t } from '../i18n';

interface Props {
  room: LKRoom;
  info: Room;
  setInfo(r: Room): void;
  hands: Record<string, number>;
  moderation: Moderation;
  onNotice(msg: string): void;
}

/** The participant list; moderators get kick / mute / permissions / promote per person. */
export function PeoplePanel({ room, info, setInfo, hands, moderation, onNotice }: Props) {
  const [apiPeople, setApiPeople] = useState<Record<string, Participant>>({});
  const count = room.remoteParticipants.size;

  useEffect(() => {
    if (!moderation.moderate) return;
    // The API knows who is a registered user (userId), which promoting needs.
    api
      .get<List<Participant>>(path`/api/rooms/${info.name}/participants`)
      .then((l) => setApiPeople(Object.fromEntries((l.items ?? []).map((p) => [p.identity, p]))))
      .catch(() => undefined);
  }, [moderation.moderate, info.name, count]);

  const everyone: LKParticipant[] = [room.localParticipant, ...room.remoteParticipants.values()];
  const list = sortParticipants(
    everyone.map((p) => ({ identity: p.identity, name: p.name || p.identity, isLocal: p === room.localParticipant, speaking: p.isSpeaking, p })),
    hands,
  );

  return (
    <section className="people" aria-label={t('Participants')} data-testid="people-panel">
      <h2>{t('Participants ({n})', { n: list.length })}</h2>
      <ul>
        {list.map(({ p, isLocal, name }) => (
          <li key={p.identity} data-testid="person" data-identity={p.identity} className={p.isSpeaking ? 'speaking' : undefined}>
            <div className="row between">
              <span>
                {hands[p.identity] !== undefined && (
                  <span className="badge hand">{t('Hand raised')}</span>
                )}
                {name}
                {isLocal && ` ${t('(you)')}`}
                <RoleBadge role={roleOf(p, info, apiPeople[p.identity])} />
              </span>
              <span className="muted small">
                {p.isMicrophoneEnabled ? t('mic on') : t('muted')}
                {p.isCameraEnabled ? ` · ${t('video')}` : ''}
              </span>
            </div>
            {moderation.moderate && !isLocal && (
              <ModeratorActions room={info} setInfo={setInfo} p={p} userId={userIdOf(p, apiPeople[p.identity])} canPromote={moderation.promote} onNotice={onNotice} />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function userIdOf(p: LKParticipant, apiP?: Participant): string | undefined {
  return participantMeta(p.metadata).userId ?? apiP?.userId;
}

/** The role now: promotions after joining show up in the room's moderator list, not the token. */
function roleOf(p: LKParticipant, info: Room, apiP?: Participant): string | undefined {
  const uid = userIdOf(p, apiP);
  if (uid && uid === info.ownerId) return 'owner';
  if (uid && info.moderators?.includes(uid)) return 'moderator';
  return participantMeta(p.metadata).role ?? apiP?.role;
}

function RoleBadge({ role }: { role?: string }) {
  if (!role || role === 'participant') return null;
  return <span className="badge small role"> {role === 'owner' ? t('owner') : role === 'moderator' ? t('moderator') : role}</span>;
}

function ModeratorActions({
  room,
  setInfo,
  p,
  userId,
  canPromote,
  onNotice,
}: {
  room: Room;
  setInfo(r: Room): void;
  p: LKParticipant;
  userId?: string;
  canPromote: boolean;
  onNotice(msg: string): void;
}) {
  const [editing, setEditing] = useState(false);
  const name = p.name || p.identity;
  const base = path`/api/rooms/${room.name}/participants/${p.identity}`;
  const run = (what: string, f: () => Promise<unknown>) => async () => {
    try {
      await f();
    } catch (e) {
      onNotice(`${what}: ${errorText(e)}`);
    }
  };
  const isMod = !!userId && !!room.moderators?.includes(userId);

  return (
    <div className="actions row wrap">
      {p.isMicrophoneEnabled && (
        <button type="button" aria-label={t('Mute {name}', { name })} data-testid="mod-mute" onClick={run(t('Mute {name}', { name }), () => api.post(`${base}/mute`, { source: 'microphone', muted: true }))}>
          {t('Mute')}
        </button>
      )}
      {p.isCameraEnabled && (
        <button type="button" aria-label={t('Stop video of {name}', { name })} onClick={run(t('Stop video of {name}', { name }), () => api.post(`${base}/mute`, { source: 'camera', muted: true }))}>
          {t('Stop video')}
        </button>
      )}
      <button type="button" aria-label={t('Permissions of {name}', { name })} aria-expanded={editing} onClick={() => setEditing(!editing)}>
        {t('Permissions')}
      </button>
      {canPromote && userId && userId !== room.ownerId && (
        <button
          type="button"
          aria-label={isMod ? t('Demote {name}', { name }) : t('Make moderator: {name}', { name })}
          onClick={run(isMod ? t('Demote {name}', { name }) : t('Make moderator: {name}', { name }), async () => {
            await (isMod ? api.del(path`/api/rooms/${room.name}/moderators/${userId}`) : api.post(path`/api/rooms/${room.name}/moderators/${userId}`));
            const mods = new Set(room.moderators ?? []);
            if (isMod) mods.delete(userId);
            else mods.add(userId);
            setInfo({ ...room, moderators: [...mods] });
          })}
        >
          {isMod ? t('Demote') : t('Make moderator')}
        </button>
      )}
      <ConfirmButton
        label={t('Remove')}
        confirmLabel={t('Confirm remove')}
        ariaLabel={t('Remove {name}', { name })}
        testId="mod-kick"
        onConfirm={run(t('Remove {name}', { name }), () => api.post(`${base}/kick`, {}))}
      />
      <ConfirmButton
        label={t('Ban')}
        confirmLabel={t('Confirm ban')}
        ariaLabel={t('Ban {name}', { name })}
        onConfirm={run(t('Ban {name}', { name }), () => api.post(`${base}/kick`, { ban: true }))}
      />
      {editing && <PermissionsEditor name={name} initial={fromLiveKit(p.permissions)} save={(perm) => api.put(`${base}/permissions`, perm)} onDone={() => setEditing(false)} />}
    </div>
  );
}

function PermissionsEditor({
  name,
  initial,
  save,
  onDone,
}: {
  name: string;
  initial?: Permissions;
  save(p: Permissions): Promise<unknown>;
  onDone(): void;
}) {
  const [p, setP] = useState<Permissions>(
    initial ?? { canPublish: true, canSubscribe: true, canPublishData: true, canPublishSources: [...allSources] },
  );
  const sources = p.canPublishSources.length === 0 ? allSources : p.canPublishSources;
  const [error, setError] = useState('');
  const toggle = (s: Source, on: boolean) =>
    setP({ ...p, canPublishSources: on ? [...sources.filter((x) => x !== s), s] : sources.filter((x) => x !== s) });
  return (
    <form
      className="perm-editor"
      aria-label={t('Permissions of {name}', { name })}
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await save({ ...p, canPublishSources: sources });
          onDone();
        } catch (err) {
          setError(errorText(err));
        }
      }}
    >
      <label className="check">
        <input type="checkbox" checked={p.canPublish} onChange={(e) => setP({ ...p, canPublish: e.target.checked })} /> {t('Publish media')}
      </label>
      {allSources.map((s) => (
        <label key={s} className="check">
          <input type="checkbox" disabled={!p.canPublish} checked={sources.includes(s)} onChange={(e) => toggle(s, e.target.checked)} /> {sourceLabels[s]}
        </label>
      ))}
      <label className="check">
        <input type="checkbox" checked={p.canPublishData} onChange={(e) => setP({ ...p, canPublishData: e.target.checked })} /> {t('Chat and raise hand')}
      </label>
      <label className="check">
        <input type="checkbox" checked={p.canSubscribe} onChange={(e) => setP({ ...p, canSubscribe: e.target.checked })} /> {t('Watch and listen')}
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" className="primary">
          {t('Save')}
        </button>
        <button type="button" onClick={onDone}>
          {t('Cancel')}
        </button>
      </div>
    </form>
  );
}
