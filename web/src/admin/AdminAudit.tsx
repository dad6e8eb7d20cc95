import { useState } from 'react';
import { api } from '../api';
import type { List } from '../api/types';
import { ErrorBox, formatTime, useLoad } from '../ui';
import { t } from '../i18n';

/** One audit log entry. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: { type: 'user' | 'key' | 'guest' | 'system'; id: string; name: string };
  action: string;
  room?: string;
  target?: string;
  address: string;
  detail?: unknown;
  hash: string;
}

interface Filter {
  action: string;
  room: string;
  actor: string;
  from: string;
  to: string;
}

const none: Filter = { action: '', room: '', actor: '', from: '', to: '' };

/** The filter as query parameters (dates are whole days, local time). */
function query(f: Filter): string {
  const q = new URLSearchParams();
  if (f.action) q.set('action', f.action);
  if (f.room) q.set('room', f.room);
  if (f.actor) q.set('actor', f.actor);
  if (f.from) q.set('from', new Date(`${f.from}T00:00:00`).toISOString());
  if (f.to) q.set('to', new Date(`${f.to}T23:59:59.999`).toISOString());
  return q.toString();
}

function actorType(type: AuditEntry['actor']['type']): string {
  return { user: t('user'), key: t('API key'), guest: t('guest'), system: t('system') }[type] ?? type;
}

/** Audit log: who did what, filtered, one page at a time; exported as CSV or JSON lines. */
export function AdminAudit() {
  const [draft, setDraft] = useState<Filter>(none);
  const [filter, setFilter] = useState<Filter>(none);
  const [cursor, setCursor] = useState('');
  const page = useLoad(
    () => api.get<List<AuditEntry>>(`/api/admin/audit?limit=50&${query(filter)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    [filter, cursor],
  );
  const [error, setError] = useState<unknown>(null);

  // The export needs the bearer token, so it is fetched, then handed to the browser as a file.
  async function download(format: 'csv' | 'jsonl') {
    setError(null);
    try {
      const res = await api.raw('GET', `/api/admin/audit/export?format=${format}&${query(filter)}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `parley-audit.${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    }
  }

  const field = (k: keyof Filter, label: string, type = 'text') => (
    <label>
      {label} <input type={type} value={draft[k]} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} data-testid={`audit-${k}`} />
    </label>
  );
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">{t('Audit log')}</h2>
      <form
        className="row wrap"
        role="search"
        aria-label={t('Filter the audit log')}
        onSubmit={(e) => {
          e.preventDefault();
          setCursor('');
          setFilter(draft);
        }}
      >
        {field('action', t('Action'))}
        {field('room', t('Room'))}
        {field('actor', t('Actor id'))}
        {field('from', t('From'), 'date')}
        {field('to', t('To'), 'date')}
        <button type="submit" data-testid="audit-filter">
          {t('Filter')}
        </button>
        <button type="button" onClick={() => void download('csv')}>
          {t('Export CSV')}
        </button>
        <button type="button" onClick={() => void download('jsonl')}>
          {t('Export JSON lines')}
        </button>
      </form>
      <ErrorBox error={page.error || error} />
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t('Audit entries')}>
        <table className="small" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('When')}</th>
              <th scope="col">{t('Who')}</th>
              <th scope="col">{t('Action')}</th>
              <th scope="col">{t('Room')}</th>
              <th scope="col">{t('Target')}</th>
              <th scope="col">{t('From')}</th>
              <th scope="col">{t('Detail')}</th>
            </tr>
          </thead>
          <tbody>
            {(page.data?.items ?? []).map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td>{e.id}</td>
                <td className="nowrap">{formatTime(e.at)}</td>
                <td>
                  {actorType(e.actor.type)}
                  {e.actor.name ? `: ${e.actor.name}` : ''}
                </td>
                <td>{e.action}</td>
                <td>{e.room ?? ''}</td>
                <td>{e.target ?? ''}</td>
                <td>{e.address}</td>
                <td>{e.detail ? <code>{JSON.stringify(e.detail)}</code> : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        {cursor && (
          <button type="button" onClick={() => setCursor('')}>
            {t('Newest')}
          </button>
        )}
        {page.data?.nextCursor && (
          <button type="button" onClick={() => setCursor(page.data!.nextCursor!)}>
            {t('Older')}
          </button>
        )}
      </div>
    </section>
  );
}
