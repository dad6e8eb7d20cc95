import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { ErrorBox, formatTime } from '../ui';

/** The signed-in user's profile: who they are, a change of display name (PATCH /api/auth/me)
 * and a password change that signs out every other session (PUT /api/auth/password). */
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
      setError('The two new passwords differ: type the same new password twice.');
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
      <h1>Your profile</h1>
      <dl className="card facts">
        <dt>Name</dt>
        <dd data-testid="profile-name">{user.name}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Role</dt>
        <dd>{user.role === 'admin' ? 'Administrator' : 'User'}</dd>
        <dt>Member since</dt>
        <dd>{formatTime(user.createdAt)}</dd>
      </dl>
      <NameForm name={user.name} />
      <form className="card" onSubmit={submit} data-testid="password-form">
        <h2>Change password</h2>
        <p className="muted small">Changing your password signs you out everywhere else; this browser stays signed in.</p>
        <label>
          Current password
          <input type="password" name="currentPassword" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label>
          New password
          <input type="password" name="newPassword" autoComplete="new-password" required minLength={8} value={next} onChange={(e) => setNext(e.target.value)} />
        </label>
        <label>
          New password again
          <input type="password" name="repeatPassword" autoComplete="new-password" required minLength={8} value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </label>
        <ErrorBox error={error} testId="password-error" />
        {done && (
          <p className="ok" role="status" data-testid="password-changed">
            Password changed. Your other sessions have been signed out.
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="password-submit">
          {busy ? 'Saving…' : 'Change password'}
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
      <h2>Display name</h2>
      <p className="muted small">Others see this name in meetings you join from now on.</p>
      <label>
        Name
        <input name="name" autoComplete="name" required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <ErrorBox error={error} testId="name-error" />
      {done && (
        <p className="ok" role="status" data-testid="name-changed">
          Name saved.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy} data-testid="name-submit">
        {busy ? 'Saving…' : 'Save name'}
      </button>
    </form>
  );
}
