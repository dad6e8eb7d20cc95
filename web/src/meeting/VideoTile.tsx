import { useEffect, useRef, type CSSProperties } from 'react';
import { ConnectionQuality, Track, type Participant, type TrackPublication } from 'livekit-client';
import { Hand, MicOff, Minimize2, Pin, PinOff, Signal, SignalLow, SignalMedium, SignalZero } from 'lucide-react';
import { t } from '../i18n';

const quality: Record<string, { label: string; Icon: typeof Signal } | undefined> = {
  [ConnectionQuality.Excellent]: { label: 'excellent', Icon: Signal },
  [ConnectionQuality.Good]: { label: 'good', Icon: SignalMedium },
  [ConnectionQuality.Poor]: { label: 'poor', Icon: SignalLow },
  [ConnectionQuality.Lost]: { label: 'lost', Icon: SignalZero },
};

function qualityText(label: string): string {
  switch (label) {
    case 'excellent':
      return t('Connection excellent');
    case 'good':
      return t('Connection good');
    case 'poor':
      return t('Connection poor');
    default:
      return t('Connection lost');
  }
}

/** One video tile: attaches the track to its own <video> element and detaches it on change,
 * so an unsubscribed track never leaves a dead element behind. */
export function VideoTile({
  participant,
  publication,
  screen,
  handRaised,
  isLocal,
  main,
  pinned,
  onPin,
  onMinimise,
  style,
}: {
  participant: Participant;
  publication?: TrackPublication;
  screen?: boolean;
  handRaised?: boolean;
  isLocal: boolean;
  main?: boolean;
  pinned?: boolean;
  onPin?(): void;
  onMinimise?(): void;
  style?: CSSProperties;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const track = publication?.track;
  const showVideo = !!track && !publication?.isMuted;

  useEffect(() => {
    const el = ref.current;
    if (!el || !track || track.kind !== Track.Kind.Video) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [track]);

  const name = participant.name || participant.identity;
  const micMuted = !participant.isMicrophoneEnabled;
  const who = screen ? t('{name}’s screen', { name }) : name;
  const label = isLocal ? t('{name} (you)', { name: who }) : who;
  const q = screen ? undefined : quality[participant.connectionQuality];
  const speaking = participant.isSpeaking && !screen;
  return (
    <figure
      className={`tile${speaking ? ' speaking' : ''}${screen ? ' screen' : ''}${main ? ' main' : ''}`}
      style={style}
      data-testid={screen ? 'screen-tile' : 'tile'}
      data-identity={participant.identity}
      data-local={isLocal ? 'true' : 'false'}
      data-speaking={participant.isSpeaking ? 'true' : 'false'}
      data-main={main ? 'true' : 'false'}
      data-pinned={pinned ? 'true' : 'false'}
      aria-label={label}
    >
      <video
        ref={ref}
        autoPlay
        playsInline
        muted
        className={isLocal && !screen ? 'mirror' : undefined}
        hidden={!showVideo}
        data-testid="tile-video"
      />
      {!showVideo && (
        <div className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </div>
      )}
      <div className="tile-actions">
        {onMinimise && (
          <button type="button" className="icon small" aria-label={t('Minimise self view')} data-tip={t('Minimise self view')} data-testid="minimise-self" onClick={onMinimise}>
            <Minimize2 aria-hidden="true" size={16} />
          </button>
        )}
        {onPin && (
          <button
            type="button"
            className={`icon small${pinned ? ' on' : ''}`}
            aria-label={pinned ? t('Unpin {name}', { name: label }) : t('Pin {name}', { name: label })}
            aria-pressed={pinned}
            data-tip={pinned ? t('Unpin') : t('Pin to the main view')}
            data-testid="pin"
            onClick={onPin}
          >
            {pinned ? <PinOff aria-hidden="true" size={16} /> : <Pin aria-hidden="true" size={16} />}
          </button>
        )}
      </div>
      <figcaption>
        {handRaised && (
          <span className="badge hand" title={t('Hand raised')}>
            <Hand aria-hidden="true" size={14} />
            <span className="sr-only">{t('Hand raised')}</span>
          </span>
        )}
        {!screen && micMuted && (
          <span className="badge muted-mic" title={t('Microphone off')} data-testid="muted-badge">
            <MicOff aria-hidden="true" size={14} />
            <span className="sr-only">{t('Muted')}</span>
          </span>
        )}
        <span className="name">{label}</span>
        {q && (
          <span className={`quality q-${q.label}`} title={qualityText(q.label)} data-testid="quality" data-quality={q.label}>
            <q.Icon aria-hidden="true" size={14} />
            <span className="sr-only">{qualityText(q.label)}</span>
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/** Plays every subscribed remote audio track through hidden <audio> elements. */
export function AudioTrack({ publication }: { publication: TrackPublication }) {
  const ref = useRef<HTMLAudioElement>(null);
  const track = publication.track;
  useEffect(() => {
    const el = ref.current;
    if (!el || !track) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [track]);
  return <audio ref={ref} autoPlay />;
}
