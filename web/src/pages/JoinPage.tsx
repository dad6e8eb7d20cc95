import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from '../router';
import { api, ApiError, path } from '../api';
import type { JoinResponse, LobbyTicket, Room } from '../api/types';
import { useAuth } from '../auth';
import { Meeting, type Choices } from '../meeting/Meeting';
import { Preview } from '../meeting/Preview';
import { LobbyWait } from '../meeting/Lobby';
import { joinErrorMessage } from '../state/meeting';
import { errorText } from '../ui';
import { keyFromLocation, newKey, setLocationKey } from '../e2eeKey';
import { e2eeSupported } from '../meeting/e2ee';
import { formatNumber, t } from '../i18n';

/** The join page: camera/mic preview and device choice, then the meeting itself. */
export function JoinPage() {
  const { name = '' } = useParams();
  const [params] = useSearchParams();
  const invite = params.get('invite') ?? undefined;
  const { user, loading } = useAuth();
  const navigate = useNavigate();
  const [room, setRoom] = useState<Room | null>(null);
  const [roomLoaded, setRoomLoaded] = useState(false);
  const [displayName, setDisplayName] = useState('');
  const [choices, setChoices] = useState<Choices>({ video: true, audio: true });
  const [joining, setJoining] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [joined, setJoined] = useState<JoinResponse | null>(null);
  // The meeting key lives in the link's fragment: a link with one joins encrypted.
  const [e2eeKey, setE2eeKey] = useState<string | null>(() => keyFromLocation());
  const toggleE2ee = (on: boolean) => {
    const k = on ? newKey() : null;
    setLocationKey(k);
    setE2eeKey(k);
  };
  const [waiting, setWaiting] = useState<LobbyTicket | null>(null);

  useEffect(() => {
    if (loading) return;
    api
      .get<Room>(path`/api/rooms/${name}`, { auth: 'optional' })
      .then(setRoom)
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setError({ code: 'room_not_found', message: t('This room does not exist.') });
      })
      .finally(() => setRoomLoaded(true));
  }, [name, loading]);

  useEffect(() => {
    if (user) setDisplayName((n) => n || user.name);
  }, [user]);

  /** Asks to join: a join answer, or (202) a lobby ticket to wait with. */
  async function askToJoin(): Promise<JoinResponse | { lobby: LobbyTicket }> {
    const body: { displayName?: string; inviteCode?: string } = {};
    const dn = displayName.trim();
    if (!user || (dn && dn !== user.name)) body.displayName = dn;
    if (invite) body.inviteCode = invite;
    return api.post<JoinResponse | { lobby: LobbyTicket }>(path`/api/rooms/${name}/join`, body, { auth: user ? 'user' : 'none' });
  }

  // A rejoin of someone already admitted is let straight in (the server remembers the admission).
  async function requestJoin(): Promise<JoinResponse> {
    const j = await askToJoin();
    if ('lobby' in j) throw new ApiError(409, 'lobby', t('A moderator has to let you in again.'));
    return j;
  }

  /** Where this person belongs now: their breakout room while a split runs, else the main room. */
  async function whereNow(want?: number): Promise<JoinResponse> {
    const body: { displayName?: string; inviteCode?: string; room?: number } = { room: want };
    const dn = displayName.trim();
    if (!user || (dn && dn !== user.name)) body.displayName = dn;
    if (invite) body.inviteCode = invite;
    return api.post<JoinResponse>(path`/api/rooms/${name}/breakouts/join`, body, { auth: user ? 'user' : 'none' });
  }

  // A move message, or a moderator's visit: reconnect only when the answer is another room.
  // Messages can come in bursts (Parley repeats them): only the latest question's answer
  // counts, so an answer overtaken by a later one never moves anyone back.
  const moves = useRef(0);
  function move(want?: number) {
    const seq = ++moves.current;
    whereNow(want)
      .then((j) => {
        if (seq !== moves.current) return;
        setJoined((cur) => (cur && want === undefined && (cur.breakout?.room ?? 0) === (j.breakout?.room ?? 0) ? cur : j));
      })
      .catch(() => undefined); // stays where it is; the next move message or rejoin asks again
  }

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setJoining(true);
    setError(null);
    try {
      const j = await askToJoin();
      if ('lobby' in j) setWaiting(j.lobby);
      else setJoined(j);
    } catch (err) {
      if (err instanceof ApiError) {
        const guestRefused = !user && (err.status === 401 || (err.status === 403 && err.code !== 'banned'));
        setError({
          code: err.code,
          message: guestRefused && err.code !== 'not_invited' ? joinErrorMessage('guests_not_allowed', err.message) : joinErrorMessage(err.code, err.message),
        });
      } else setError({ code: 'error', message: errorText(err) });
    } finally {
      setJoining(false);
    }
  }

  if (joined) {
    return (
      <Meeting
        key={joined.breakout?.room ?? 0}
        join={joined}
        choices={choices}
        isAdmin={user?.role === 'admin'}
        e2eeKey={e2eeKey}
        rejoin={joined.breakout ? () => whereNow() : requestJoin}
        onMove={move}
        onExit={() => (user ? navigate('/') : setJoined(null))}
      />
    );
  }

  const title = room?.title || name;
  if (waiting)
    return (
      <LobbyWait
        ticket={waiting}
        title={title}
        onAdmitted={(j) => {
          setWaiting(null);
          setJoined(j);
        }}
        onAgain={() => {
          setWaiting(null);
          void submit();
        }}
        onLeave={() => setWaiting(null)}
      />
    );
  if (error?.code === 'room_not_found' && !room)
    return (
      <section className="card narrow" data-testid="room-missing">
        <h1>{t('Room not found')}</h1>
        <p role="alert" data-testid="join-error" data-code={error.code}>
          {t('There is no room called “{name}”. Check the link you were given, or ask the host for a new one.', { name })}
        </p>
        <Link to="/" className="button primary">
          {t('Go to your rooms')}
        </Link>
      </section>
    );
  return (
    <section className="join">
      <h1>{t('Join {title}', { title })}</h1>
      <div className="join-grid">
        {roomLoaded ? <Preview choices={choices} setChoices={setChoices} /> : <div className="card preview" aria-busy="true" />}
        <form onSubmit={submit} className="card" data-testid="join-form" data-ready={roomLoaded ? 'true' : 'false'}>
          <label>
            {user ? t('Display name') : t('Your name')}
            <input
              name="displayName"
              required={!user}
              maxLength={64}
              autoComplete="name"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              data-testid="display-name"
            />
          </label>
          {!user && (
            <p className="muted small">
              {t('Joining as a guest.')}{' '}
              <Link to={`/login?next=${encodeURIComponent(`/r/${name}${invite ? `?invite=${invite}` : ''}`)}`}>{t('Sign in instead')}</Link>
            </p>
          )}
          {room && (
            <p className="muted small">
              {room.locked && t('This room is locked.') + ' '}
              {room.lobby && t('A moderator lets guests in.') + ' '}
              {room.maxParticipants > 0 && t('Up to {n} people.', { n: formatNumber(room.maxParticipants) }) + ' '}
              {room.active ? t('{n} in the meeting now.', { n: formatNumber(room.numParticipants ?? 0) }) : t('Nobody is here yet.')}
            </p>
          )}
          <label className="check">
            <input
              type="checkbox"
              checked={e2eeKey !== null}
              disabled={!e2eeSupported()}
              onChange={(e) => toggleE2ee(e.target.checked)}
              data-testid="e2ee-toggle"
            />
            {t('End-to-end encryption')}
          </label>
          <p className="muted small" data-testid="e2ee-note">
            {!e2eeSupported()
              ? t('This browser cannot encrypt media end to end.')
              : e2eeKey
                ? t('Encrypted with a key kept in this page’s link (after the #), which is never sent to the server. Everyone must join with the same link, including the key; the meeting cannot be recorded.')
                : t('Turn on to encrypt audio and video with a key only the people with your link have.')}
          </p>
          {error && (
            <p className="error" role="alert" data-testid="join-error" data-code={error.code}>
              {error.message}
            </p>
          )}
          <button type="submit" className="primary big" disabled={joining} data-testid="join-button">
            {joining ? t('Joining…') : t('Join meeting')}
          </button>
        </form>
      </div>
    </section>
  );
}
