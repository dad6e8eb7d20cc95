import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { ErrorBox, formatTime } from '../ui';
import { t } from '../i18n';
import { PasskeysCard } from './PasskeysCard';

/** The signed-in user's profile: who they are, a change of display name (PATCH /api/auth/me),
 * their passkeys and a password change that signs out every other session (PUT /api/auth/password). */
export function ProfilePage() {
  const { user } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  if (!user) return null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (next !== repeat) {
      setError(t('The two new passwords differ: type the same new password twice.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.put('/api/auth/password', { currentPassword: current, newPassword: next });
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow" data-testid="profile">
      <h1>{t('Your profile')}</h1>
      <dl className="card facts">
        <dt>{t('Name')}</dt>
        <dd data-testid="profile-name">{user.name}</dd>
        <dt>{t('Email')}</dt>
        <dd>{user.email}</dd>
        <dt>{t('Role')}</dt>
        <dd>{user.role === 'admin' ? t('Administrator') : t('User')}</dd>
        <dt>{t('Member since')}</dt>
        <dd>{formatTime(user.createdAt)}</dd>
      </dl>
      <NameForm name={user.name} />
      <PasskeysCard />
      <form className="card" onSubmit={submit} data-testid="password-form">
        <h2>{t('Change password')}</h2>
        <p className="muted small">{t('Changing your password signs you out everywhere else; this browser stays signed in.')}</p>
        <label>
          {t('Current password')}
          <input type="password" name="currentPassword" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label>
          {t('New password')}
          <input type="password" name="newPassword" autoComplete="new-password" required minLength={8} value={next} onChange={(e) => setNext(e.target.value)} />
        </label>
        <label>
          {t('New password again')}
          <input type="password" name="repeatPassword" autoComplete="new-password" required minLength={8} value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </label>
        <ErrorBox error={error} testId="password-error" />
        {done && (
          <p className="ok" role="status" data-testid="password-changed">
            {t('Password changed. Your other sessions have been signed out.')}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="password-submit">
          {busy ? t('Saving…') : t('Change password')}
        </button>
      </form>
    </section>
  );
}

/** The display name others see in meetings; the server trims and checks it. */
function NameForm({ name }: { name: string }) {
  const { reload } = useAuth();
  const [value, setValue] = useState(name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await api.patch('/api/auth/me', { name: value });
      await reload();
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} data-testid="name-form">
      <h2>{t('Display name')}</h2>
      <p className="muted small">{t('Others see this name in meetings you join from now on.')}</p>
      <label>
        {t('Name')}
        <input name="name" autoComplete="name" required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <ErrorBox error={error} testId="name-error" />
      {done && (
        <p className="ok" role="status" data-testid="name-changed">
          {t('Name saved.')}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy} data-testid="name-submit">
        {busy ? t('Saving…') : t('Save name')}
      </button>
    </form>
  );
}
