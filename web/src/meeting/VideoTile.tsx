import { useEffect, useRef } from 'react';
import { Track, type Participant, type TrackPublication } from 'livekit-client';

/** One video tile: attaches the track to its own <video> element and detaches it on change,
 * so an unsubscribed track never leaves a dead element behind. */
export function VideoTile({
  participant,
  publication,
  screen,
  handRaised,
  isLocal,
}: {
  participant: Participant;
  publication?: TrackPublication;
  screen?: boolean;
  handRaised?: boolean;
  isLocal: boolean;
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
  const label = `${screen ? `${name}'s screen` : name}${isLocal ? ' (you)' : ''}`;
  return (
    <figure
      className={`tile${participant.isSpeaking && !screen ? ' speaking' : ''}${screen ? ' screen' : ''}`}
      data-testid={screen ? 'screen-tile' : 'tile'}
      data-identity={participant.identity}
      data-local={isLocal ? 'true' : 'false'}
      data-speaking={participant.isSpeaking ? 'true' : 'false'}
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
      <figcaption>
        {handRaised && (
          <span className="badge hand">Hand raised</span>
        )}
        {!screen && micMuted && (
          <span className="badge muted-mic">Muted</span>
        )}
        <span className="name">{label}</span>
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
