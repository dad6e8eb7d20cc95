import { useEffect, useRef, useState } from 'react';
import { createLocalAudioTrack, createLocalVideoTrack, supportsAudioOutputSelection, type LocalAudioTrack, type LocalVideoTrack } from 'livekit-client';
import { LevelMeter } from './DevicePanel';
import type { Choices } from './connection';
import { DeviceSelect } from './DeviceSelect';
import { useMediaDevices } from './devices';
import { errorText, lowResRequested } from '../ui';
import { t } from '../i18n';

/** The camera preview, microphone level and device choice of the join and device-check pages. */
export function Preview({ choices, setChoices }: { choices: Choices; setChoices(c: Choices): void }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [mic, setMic] = useState<LocalAudioTrack | undefined>();
  const [problem, setProblem] = useState('');
  // Device labels appear once a permission is granted: list again when a track starts.
  const [granted, setGranted] = useState(0);
  const cameras = useMediaDevices('videoinput', granted);
  const mics = useMediaDevices('audioinput', granted);
  const speakers = useMediaDevices('audiooutput', granted);

  useEffect(() => {
    if (!choices.video) return;
    let track: LocalVideoTrack | undefined;
    let stopped = false;
    const lowres = lowResRequested();
    createLocalVideoTrack({
      deviceId: choices.videoDeviceId,
      resolution: lowres ? { width: 320, height: 240, frameRate: 15 } : { width: 640, height: 360, frameRate: 30 },
    })
      .then((t) => {
        if (stopped) return t.stop();
        track = t;
        if (videoRef.current) t.attach(videoRef.current);
        setProblem('');
        setGranted((n) => n + 1);
      })
      .catch((e) => setProblem(t('Camera: {error}. Allow the camera in the browser’s site settings, or join with it off.', { error: errorText(e) })));
    return () => {
      stopped = true;
      if (track && videoRef.current) track.detach(videoRef.current);
      track?.stop();
    };
  }, [choices.video, choices.videoDeviceId]);

  useEffect(() => {
    if (!choices.audio) return;
    let track: LocalAudioTrack | undefined;
    let stopped = false;
    createLocalAudioTrack({ deviceId: choices.audioDeviceId })
      .then((t) => {
        if (stopped) return t.stop();
        track = t;
        setMic(t);
        setGranted((n) => n + 1);
      })
      .catch((e) => setProblem(t('Microphone: {error}. Allow the microphone in the browser’s site settings, or join with it off.', { error: errorText(e) })));
    return () => {
      stopped = true;
      track?.stop();
      setMic(undefined);
    };
  }, [choices.audio, choices.audioDeviceId]);

  const select = (label: string, noun: string, list: MediaDeviceInfo[], value: string | undefined, set: (id: string | undefined) => void, testId: string) => (
    <DeviceSelect label={label} noun={noun} list={list} value={value} defaultOption onChange={set} testId={testId} />
  );

  return (
    <div className="card preview">
      <div className="preview-video">
        <video ref={videoRef} autoPlay playsInline muted className="mirror" hidden={!choices.video} data-testid="preview-video" />
        {!choices.video && <div className="avatar">{t('Camera off')}</div>}
      </div>
      <LevelMeter track={choices.audio ? mic : undefined} />
      <div className="row wrap">
        <label className="check">
          <input type="checkbox" checked={choices.video} onChange={(e) => setChoices({ ...choices, video: e.target.checked })} data-testid="preview-camera" />
          {t('Camera')}
        </label>
        <label className="check">
          <input type="checkbox" checked={choices.audio} onChange={(e) => setChoices({ ...choices, audio: e.target.checked })} data-testid="preview-mic" />
          {t('Microphone')}
        </label>
      </div>
      {select(t('Camera device'), t('Camera'), cameras, choices.videoDeviceId, (id) => setChoices({ ...choices, videoDeviceId: id }), 'preview-camera-select')}
      {select(t('Microphone device'), t('Microphone'), mics, choices.audioDeviceId, (id) => setChoices({ ...choices, audioDeviceId: id }), 'preview-mic-select')}
      {supportsAudioOutputSelection() &&
        speakers.length > 0 &&
        select(t('Speaker'), t('Speaker'), speakers, choices.audioOutputId, (id) => setChoices({ ...choices, audioOutputId: id }), 'preview-speaker-select')}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
