import { useState } from 'react';
import { api, path } from '../api';
import type { List, User } from '../api/types';
import { useAuth } from '../auth';
import { ErrorBox, formatTime, useLoad } from '../ui';

/** Users: search, change role, disable (which revokes every session). */
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
      <h2 id="users-h">Users</h2>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <label className="grow">
          <span className="sr-only">Search users</span>
          <input type="search" placeholder="Search by name or email" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={users.error || error} />
      <div className="table-wrap">
        <table data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {items.map((u) => (
              <tr key={u.id} data-testid="user-row">
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <label>
                    <span className="sr-only">Role of {u.email}</span>
                    <select value={u.role} disabled={u.id === me?.id} onChange={(e) => update(u, { role: e.target.value as User['role'] })}>
                      <option value="user">user</option>
                      <option value="admin">admin</option>
                    </select>
                  </label>
                </td>
                <td>
                  <button
                    type="button"
                    className={u.disabled ? undefined : 'danger'}
                    disabled={u.id === me?.id}
                    aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}
                    onClick={() => update(u, { disabled: !u.disabled })}
                  >
                    {u.disabled ? 'Disabled — enable' : 'Disable'}
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
