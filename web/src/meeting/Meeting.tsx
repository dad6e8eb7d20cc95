import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { ConnectionState, ParticipantEvent, RoomEvent, Track, type RemoteParticipant, type Room } from 'livekit-client';
import { LoaderCircle } from 'lucide-react';
import type { JoinResponse, Room as RoomInfo } from '../api/types';
import { api, ApiError, path } from '../api';
import { useEventStream } from '../admin/events';
import {
  decodeMessage,
  encodeMessage,
  initialMeeting,
  joinErrorMessage,
  meetingReducer,
  recordingActiveFromEvent,
  topics,
} from '../state/meeting';
import { controlsFor, fromLiveKit, moderationFor } from '../state/permissions';
import { errorText } from '../ui';
import { InviteButton } from './InviteButton';
import { LobbyList } from './Lobby';
import { BreakoutBadge, BreakoutControls } from './Breakouts';
import { ChatPanel } from './ChatPanel';
import { useMeetingConnection, type Choices } from './connection';
import { DevicePanel } from './DevicePanel';
import { randomId, useRoomVersion } from './hooks';
import { describePermissionChange } from './notices';
import { PeoplePanel } from './PeoplePanel';
import { RoomControls } from './RoomControls';
import { Stage } from './Stage';
import { Toasts, useToasts } from './toasts';
import { shortcuts, Toolbar, type Panel } from './Toolbar';
import { AudioTrack } from './VideoTile';
import './meeting.css';
import { t } from '../i18n';

export type { Choices } from './connection';

interface Props {
  join: JoinResponse;
  choices: Choices;
  isAdmin: boolean;
  /** Asks the API for a fresh join token (expired token, rejoin, healing after a lost connection). */
  rejoin(): Promise<JoinResponse>;
  /** Asks where to be now (a breakout room, or the main room; `want` for moderators visiting)
   * and moves there when it is elsewhere. */
  onMove(want?: number): void;
  onExit(): void;
  /** The end-to-end encryption key of an encrypted meeting (from the link's fragment). */
  e2eeKey?: string | null;
}

/** The data topic of Parley's own move messages (room.BreakoutTopic). */
const breakoutTopic = 'parley.breakout';

/** Whether a key press happened in a text field, where shortcuts must not fire. */
function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

/** The meeting: connects to LiveKit with the join token and renders the call full-window. */
export function Meeting({ join, choices, isAdmin, rejoin, onMove, onExit, e2eeKey }: Props) {
  const [info, setInfo] = useState<RoomInfo>(join.room);
  const [state, dispatch] = useReducer(meetingReducer, initialMeeting);
  const [panel, setPanel] = useState<Panel>(null);
  const [pinned, setPinned] = useState<string | undefined>();
  const [speakerView, setSpeakerView] = useState(false);
  const [lastSpeaker, setLastSpeaker] = useState<string | undefined>();
  const [selfMini, setSelfMini] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const { toasts, push, dismiss } = useToasts();
  const panelRef = useRef<Panel>(null);
  panelRef.current = panel;
  const handRef = useRef(false);
  const recordingRef = useRef(false);
  const selfToggleAt = useRef(0);
  const moderateRef = useRef(false);
  const moveRef = useRef(() => onMove());
  moveRef.current = () => onMove();
  const notice = useCallback((msg: string, kind: 'info' | 'error' = 'error') => push(msg, kind), [push]);

  const wire = useCallback(
    (r: Room) => {
      const send = (topic: string, payload: Record<string, unknown>, to?: RemoteParticipant) =>
        r.localParticipant.publishData(encodeMessage(payload), { reliable: true, topic, destinationIdentities: to ? [to.identity] : undefined });
      // Media that does not decrypt: someone joined with another key (or none).
      let keyWarned = false;
      r.on(RoomEvent.EncryptionError, () => {
        if (keyWarned) return;
        keyWarned = true;
        push(t('Some audio or video could not be decrypted: everyone must join with the same link, including its key.'));
      });
      r.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
        // Sent by Parley itself (no participant): the breakout rooms started or ended.
        if (topic === breakoutTopic && !participant) return moveRef.current();
        const m = decodeMessage(topic, payload);
        if (!m || !participant) return;
        if (m.topic === 'chat') {
          const message = { id: m.id || randomId(), from: participant.identity, name: participant.name || participant.identity, text: m.text, at: Date.now() };
          dispatch({ type: 'chat', message, seen: panelRef.current === 'chat' });
        } else if (m.topic === 'hand') {
          dispatch({ type: 'hand', identity: participant.identity, raised: m.raised, at: Date.now() });
        } else if (m.topic === 'recording') {
          dispatch({ type: 'recording', active: m.active });
        }
      });
      r.on(RoomEvent.ParticipantConnected, (p) => {
        // Newcomers learn the current hand and recording state from the others.
        if (handRef.current) void send(topics.hand, { raised: true }, p).catch(() => undefined);
        if (moderateRef.current && recordingRef.current) void send(topics.recording, { active: true }, p).catch(() => undefined);
      });
      r.on(RoomEvent.ParticipantDisconnected, (p) => dispatch({ type: 'left', identity: p.identity }));
      r.on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
        const other = speakers.find((s) => s !== r.localParticipant);
        if (other) setLastSpeaker(other.identity);
      });
      // A mute you did not ask for came from a moderator.
      r.localParticipant.on(ParticipantEvent.TrackMuted, (pub) => {
        if (r.state !== ConnectionState.Connected || Date.now() - selfToggleAt.current < 2000) return;
        if (pub.source === Track.Source.Microphone) push(t('A moderator muted your microphone.'));
        else if (pub.source === Track.Source.Camera) push(t('A moderator turned off your camera.'));
      });
      r.on(RoomEvent.ParticipantPermissionsChanged, (prev, p) => {
        if (p !== r.localParticipant || !prev) return;
        const msg = describePermissionChange(controlsFor(fromLiveKit(prev)), controlsFor(fromLiveKit(p.permissions)));
        if (msg) push(msg);
      });
    },
    [push],
  );

  const { room, phase, setPhase, sessions, heals, rejoinNow, session } = useMeetingConnection({
    join,
    choices,
    rejoin,
    wire,
    onNotice: notice,
    onHealed: () => push(t('Reconnected.')),
    e2eeKey,
  });
  const moderation = moderationFor(session.role, isAdmin);
  moderateRef.current = moderation.moderate;
  useRoomVersion(room);

  // Moderators follow the room's event stream (only they may read it) for the recording
  // indicator; everyone else relies on LiveKit's recording flag and the moderators' data messages.
  const followEvents = moderation.moderate && api.tokens !== null && phase.kind === 'live';
  const [lobbyVersion, setLobbyVersion] = useState(0);
  const [breakoutVersion, setBreakoutVersion] = useState(0);
  useEventStream(
    followEvents ? path`/api/rooms/${info.name}/events` : null,
    (e) => {
      if (e.type === 'lobby_changed' || e.type === 'open') setLobbyVersion((n) => n + 1);
      if (e.type === 'breakouts_changed' || e.type === 'open') setBreakoutVersion((n) => n + 1);
      const active = recordingActiveFromEvent(e);
      if (active !== undefined) dispatch({ type: 'recording', active });
    },
    // No longer a moderator (or the room went): the stream stays closed, and the recording
    // indicator follows LiveKit's flag like everyone else's.
    () => dispatch({ type: 'recording', active: false }),
  );

  const recording = (room?.isRecording ?? false) || state.recording;
  const wasRecording = useRef(false);
  useEffect(() => {
    if (recording === wasRecording.current) return;
    wasRecording.current = recording;
    push(recording ? t('This meeting is being recorded.') : t('Recording stopped.'));
  }, [recording, push]);

  // The meeting takes the whole window: the site header goes away while it runs.
  useEffect(() => {
    document.body.classList.add('in-meeting');
    return () => document.body.classList.remove('in-meeting');
  }, []);

  const publish = useCallback(
    (topic: string, payload: Record<string, unknown>) => room?.localParticipant.publishData(encodeMessage(payload), { reliable: true, topic }),
    [room],
  );
  const lp = room?.localParticipant;
  const handRaised = !!lp && state.hands[lp.identity] !== undefined;
  const toggleMic = useCallback(async () => {
    if (!lp) return;
    selfToggleAt.current = Date.now();
    await lp.setMicrophoneEnabled(!lp.isMicrophoneEnabled);
  }, [lp]);
  const toggleCamera = useCallback(async () => {
    if (!lp) return;
    selfToggleAt.current = Date.now();
    await lp.setCameraEnabled(!lp.isCameraEnabled);
  }, [lp]);
  const toggleHand = useCallback(() => {
    if (!lp) return;
    const raised = !handRaised;
    handRef.current = raised;
    dispatch({ type: 'hand', identity: lp.identity, raised, at: Date.now() });
    void publish(topics.hand, { raised })?.catch((e) => notice(t('Raise hand: {error}', { error: errorText(e) })));
  }, [lp, handRaised, publish, notice]);
  const openPanel = useCallback((p: Panel) => {
    setPanel(p);
    if (p === 'chat') dispatch({ type: 'read' });
  }, []);

  const live = phase.kind === 'live' && !!room;
  useEffect(() => {
    if (!live || !room) return;
    const controls = controlsFor(fromLiveKit(room.localParticipant.permissions));
    const onKey = (e: KeyboardEvent) => {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const run = (f: () => Promise<unknown>, what: string) => void f().catch((err) => notice(`${what}: ${errorText(err)}`));
      switch (e.key.toLowerCase()) {
        case shortcuts.mic:
          if (controls.microphone) run(toggleMic, t('Microphone'));
          break;
        case shortcuts.camera:
          if (controls.camera) run(toggleCamera, t('Camera'));
          break;
        case shortcuts.hand:
          if (controls.raiseHand) toggleHand();
          break;
        case shortcuts.chat:
          openPanel(panelRef.current === 'chat' ? null : 'chat');
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [live, room, toggleMic, toggleCamera, toggleHand, openPanel, notice]);

  async function retry() {
    setRetrying(true);
    try {
      handRef.current = false;
      await rejoinNow();
    } catch (e) {
      const msg = e instanceof ApiError ? joinErrorMessage(e.code, e.message) : errorText(e);
      setPhase({ kind: 'failed', message: msg });
    } finally {
      setRetrying(false);
    }
  }

  if (phase.kind === 'ended' || phase.kind === 'failed') {
    const removed = phase.kind === 'ended' && (phase.reason === 'PARTICIPANT_REMOVED' || phase.reason === 'ROOM_DELETED');
    return (
      <section className="card narrow" data-testid="meeting-over" data-reason={phase.kind === 'ended' ? phase.reason : 'FAILED'}>
        <h1>{phase.kind === 'ended' ? (removed ? t('Meeting over') : t('Disconnected')) : t('Could not join')}</h1>
        <p role="alert" data-testid="disconnect-message">
          {phase.message}
        </p>
        <div className="row wrap">
          {!(phase.kind === 'ended' && phase.reason === 'PARTICIPANT_REMOVED') && (
            <button type="button" className="primary" onClick={retry} disabled={retrying} data-testid="rejoin">
              {retrying ? t('Joining…') : phase.kind === 'failed' ? t('Try again') : t('Rejoin')}
            </button>
          )}
          <button type="button" onClick={onExit}>
            {t('Back')}
          </button>
        </div>
      </section>
    );
  }

  const title = info.title || info.name;
  if (!room || phase.kind !== 'live') {
    const healing = phase.kind === 'reconnecting';
    return (
      <div className="meeting dark" data-testid={healing ? 'reconnecting' : 'connecting'} data-sessions={sessions} data-heals={heals}>
        <div className="meeting-wait" role="status">
          <LoaderCircle className="spin" aria-hidden="true" size={40} />
          <p>{healing ? t('Reconnecting…') : t('Connecting to {title}…', { title })}</p>
          {healing && (
            <p className="muted small">
              {phase.long
                ? t('The meeting is still out of reach: the server or your network is away. Parley keeps trying; you can leave at any time.')
                : t('The connection to the meeting was lost. Parley is getting you back in.')}
            </p>
          )}
          {healing && phase.why && <p className="muted small" data-testid="reconnect-reason">{phase.why}</p>}
          {healing && (
            <button type="button" onClick={onExit}>
              {t('Leave')}
            </button>
          )}
        </div>
        <Toasts toasts={toasts} dismiss={dismiss} />
      </div>
    );
  }

  const controls = controlsFor(fromLiveKit(room.localParticipant.permissions));
  const audio = [...room.remoteParticipants.values()].flatMap((p) =>
    [...p.audioTrackPublications.values()].filter((pub) => pub.track && pub.isSubscribed),
  );

  return (
    <div className={`meeting dark${panel ? ' with-panel' : ''}`} data-testid="meeting" data-identity={room.localParticipant.identity} data-sessions={sessions} data-heals={heals}>
      <header className="meeting-head">
        <h1 className="title">{title}</h1>
        {recording && (
          <span className="rec" role="status" data-testid="recording-indicator">
            <span className="dot" aria-hidden="true" /> {t('Recording')}
          </span>
        )}
        {info.locked && <span className="badge">{t('Locked')}</span>}
        {e2eeKey && (
          <span className="badge ok" data-testid="e2ee-badge" title={t('Audio and video are encrypted with a key the server never sees')}>
            {t('End-to-end encrypted')}
          </span>
        )}
        {join.breakout && <BreakoutBadge n={join.breakout.room} endsAt={join.breakout.endsAt} />}
        {room.state === ConnectionState.Reconnecting && (
          <span className="badge warn" role="status" data-testid="resuming">
            {t('Reconnecting…')}
          </span>
        )}
        <span className="grow" />
        {info.inviteCode !== undefined && <InviteButton room={info} />}
        {moderation.moderate && (
          <BreakoutControls name={info.name} room={room} version={breakoutVersion} current={join.breakout?.room ?? 0} onVisit={(n) => onMove(n)} onNotice={notice} />
        )}
        {moderation.moderate && (
          <RoomControls
            encrypted={!!e2eeKey}
            info={info}
            setInfo={setInfo}
            onNotice={notice}
            onRecording={(active) => {
              recordingRef.current = active;
              dispatch({ type: 'recording', active });
              void publish(topics.recording, { active })?.catch(() => undefined);
            }}
          />
        )}
      </header>
      {moderation.moderate && <LobbyList room={info.name} version={lobbyVersion} onNotice={notice} />}
      <div className="meeting-body">
        <Stage
          room={room}
          hands={state.hands}
          pinned={pinned}
          setPinned={setPinned}
          speakerView={speakerView}
          lastSpeaker={lastSpeaker}
          selfMini={selfMini}
          setSelfMini={setSelfMini}
        />
        {panel && (
          <aside id="meeting-panel" className="panel">
            {panel === 'chat' ? (
              <ChatPanel
                messages={state.chat}
                canSend={controls.chat}
                send={async (text) => {
                  const id = randomId();
                  await publish(topics.chat, { id, text });
                  dispatch({ type: 'chat', seen: true, message: { id, from: room.localParticipant.identity, name: room.localParticipant.name || t('You'), text, at: Date.now() } });
                }}
              />
            ) : panel === 'people' ? (
              <PeoplePanel room={room} info={info} setInfo={setInfo} hands={state.hands} moderation={moderation} onNotice={notice} />
            ) : (
              <DevicePanel room={room} onNotice={notice} />
            )}
          </aside>
        )}
      </div>
      <Toolbar
        room={room}
        controls={controls}
        handRaised={handRaised}
        onToggleHand={toggleHand}
        toggleMic={toggleMic}
        toggleCamera={toggleCamera}
        panel={panel}
        setPanel={openPanel}
        speakerView={speakerView}
        setSpeakerView={setSpeakerView}
        unread={state.unread}
        onLeave={() => void room.disconnect()}
        onNotice={notice}
      />
      <Toasts toasts={toasts} dismiss={dismiss} />
      <div hidden>
        {audio.map((pub) => (
          <AudioTrack key={pub.trackSid} publication={pub} />
        ))}
      </div>
    </div>
  );
}
