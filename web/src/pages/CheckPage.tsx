import { useState } from 'react';
import { Link } from '../router';
import type { Choices } from '../meeting/connection';
import { Preview } from '../meeting/Preview';
import { useAuth } from '../auth';
import { errorText } from '../ui';
import { t } from '../i18n';

/** A short tone on the chosen speaker (the default one when the browser cannot choose). */
async function playTestSound(outputId: string | undefined): Promise<void> {
  const ctx = new AudioContext();
  try {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0.2;
    const dest = ctx.createMediaStreamDestination();
    osc.frequency.value = 440;
    osc.connect(gain).connect(dest);
    const el = new Audio();
    el.srcObject = dest.stream;
    const sink = el as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (outputId && sink.setSinkId) await sink.setSinkId(outputId);
    osc.start();
    await el.play();
    await new Promise((r) => setTimeout(r, 800));
    osc.stop();
    el.pause();
  } finally {
    void ctx.close();
  }
}

/** "Test your camera and microphone": the join page's preview without a meeting, plus a
 * test sound for the speaker. Nothing leaves the browser. */
export function CheckPage() {
  const { user } = useAuth();
  const [choices, setChoices] = useState<Choices>({ video: true, audio: true });
  const [sound, setSound] = useState<'idle' | 'playing' | 'played' | string>('idle');
  return (
    <section className="join" data-testid="check-page">
      <h1>{t('Test your camera and microphone')}</h1>
      <div className="join-grid">
        <Preview choices={choices} setChoices={setChoices} />
        <div className="card">
          <p>
            {t(
              'You should see yourself, and the bar under the picture should move when you speak. Choose another camera or microphone below the picture if not. Nothing you test here leaves this browser.',
            )}
          </p>
          <button
            type="button"
            disabled={sound === 'playing'}
            data-testid="test-sound"
            data-state={sound === 'idle' || sound === 'playing' || sound === 'played' ? sound : 'failed'}
            onClick={() => {
              setSound('playing');
              playTestSound(choices.audioOutputId).then(
                () => setSound('played'),
                (e) => setSound(t('The test sound could not play: {error}', { error: errorText(e) })),
              );
            }}
          >
            {sound === 'playing' ? t('Playing…') : t('Play a test sound')}
          </button>
          {sound === 'played' && (
            <p className="muted small" role="status">
              {t('Did you hear a short tone? If not, check the speaker choice and your volume.')}
            </p>
          )}
          {sound !== 'idle' && sound !== 'playing' && sound !== 'played' && (
            <p className="error" role="alert">
              {sound}
            </p>
          )}
          <p>{user ? <Link to="/">{t('Back to your rooms')}</Link> : <Link to="/login">{t('Sign in')}</Link>}</p>
        </div>
      </div>
    </section>
  );
}
