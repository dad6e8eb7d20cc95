import { useState, type FormEvent } from 'react';
import { api, path } from '../api';
import type { List, User } from '../api/types';
import { useAuth } from '../auth';
import { ErrorBox, formatTime, useLoad } from '../ui';
import { t } from '../i18n';

/** Users: invite by e-mail, search, change role, disable (which revokes every session). */
export function AdminUsers() {
  const { user: me } = useAuth();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const users = useLoad(() => api.get<List<User>>(`/api/admin/users?limit=200${query ? `&q=${encodeURIComponent(query)}` : ''}`), [query]);
  const [error, setError] = useState<unknown>(null);

  async function update(u: User, body: Partial<Pick<User, 'role' | 'disabled'>>) {
    setError(null);
    try {
      const updated = await api.patch<User>(path`/api/admin/users/${u.id}`, body);
      users.setData({ ...users.data!, items: users.data!.items.map((x) => (x.id === u.id ? { ...x, ...body, ...(updated ?? {}) } : x)) });
    } catch (e) {
      setError(e);
    }
  }

  // The server may or may not filter by q; filtering here too keeps the search honest.
  const needle = query.toLowerCase();
  const items = (users.data?.items ?? []).filter((u) => !needle || u.email.toLowerCase().includes(needle) || u.name.toLowerCase().includes(needle));
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">{t('Users')}</h2>
      <InviteForm onInvited={(u) => users.setData({ ...users.data!, items: [u, ...(users.data?.items ?? [])] })} />
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <label className="grow">
          <span className="sr-only">{t('Search users')}</span>
          <input type="search" placeholder={t('Search by name or email')} value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit">{t('Search')}</button>
      </form>
      <ErrorBox error={users.error || error} />
      <div className="table-wrap">
        <table data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">{t('Name')}</th>
              <th scope="col">{t('Email')}</th>
              <th scope="col">{t('Role')}</th>
              <th scope="col">{t('Status')}</th>
              <th scope="col">{t('Joined')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((u) => (
              <tr key={u.id} data-testid="user-row">
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <label>
                    <span className="sr-only">{t('Role of {email}', { email: u.email })}</span>
                    <select value={u.role} disabled={u.id === me?.id} onChange={(e) => update(u, { role: e.target.value as User['role'] })}>
                      <option value="user">{t('user')}</option>
                      <option value="admin">{t('admin')}</option>
                    </select>
                  </label>
                </td>
                <td>
                  <button
                    type="button"
                    className={u.disabled ? undefined : 'danger'}
                    disabled={u.id === me?.id}
                    aria-label={u.disabled ? t('Enable {email}', { email: u.email }) : t('Disable {email}', { email: u.email })}
                    onClick={() => update(u, { disabled: !u.disabled })}
                  >
                    {u.disabled ? t('Disabled — enable') : t('Disable')}
                  </button>
                </td>
                <td>{formatTime(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Invites someone by e-mail: their account is made at once and they choose a password
 * with the mailed link (POST /api/admin/users/invite). */
function InviteForm({ onInvited }: { onInvited(u: User): void }) {
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<User['role']>('user');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState('');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSent('');
    try {
      const u = await api.post<User>('/api/admin/users/invite', { email, name, admin: role === 'admin' });
      onInvited(u);
      setSent(u.email);
      setEmail('');
      setName('');
      setRole('user');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!open)
    return (
      <p>
        <button type="button" className="primary" onClick={() => setOpen(true)} data-testid="invite-open">
          {t('Invite someone')}
        </button>
      </p>
    );
  return (
    <form className="card" onSubmit={submit} data-testid="invite-form">
      <h3>{t('Invite someone')}</h3>
      <p className="muted small">{t('They get an e-mail with a link to choose their password; it works for 7 days.')}</p>
      <label>
        {t('Email')}
        <input name="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        {t('Name')}
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t('Role')}
        <select name="role" value={role} onChange={(e) => setRole(e.target.value as User['role'])}>
          <option value="user">{t('user')}</option>
          <option value="admin">{t('admin')}</option>
        </select>
      </label>
      <ErrorBox error={error} testId="invite-error" />
      {sent && (
        <p className="ok" role="status" data-testid="invite-sent">
          {t('Invitation sent to {email}.', { email: sent })}
        </p>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={busy} data-testid="invite-submit">
          {busy ? t('Please wait…') : t('Send invitation')}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t('Close')}
        </button>
      </div>
    </form>
  );
}
