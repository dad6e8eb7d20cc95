import { useState } from 'react';
import { api, path } from '../api';
import { Link } from '../router';
import { webhookEventTypes, type List, type WebhookDelivery, type WebhookEndpoint } from '../api/types';
import { ConfirmButton, ErrorBox, formatTime, useLoad } from '../ui';
import { t } from '../i18n';

const statusClass: Record<WebhookDelivery['status'], string> = { delivered: 'ok', pending: 'warn', dead: 'error' };

function statusText(s: WebhookDelivery['status']): string {
  return { delivered: t('delivered'), pending: t('pending'), dead: t('dead') }[s] ?? s;
}

/** Outbound webhooks: register endpoints, see each one's delivery log, replay a delivery, send a test event. */
export function AdminWebhooks() {
  const list = useLoad(async () => (await api.get<List<WebhookEndpoint>>('/api/admin/webhooks')).items, []);
  const [created, setCreated] = useState<WebhookEndpoint>();
  const [open, setOpen] = useState<string>();
  return (
    <section aria-labelledby="webhooks-h" data-testid="admin-webhooks">
      <div className="row between">
        <h2 id="webhooks-h">Webhooks</h2>
        <Link to="/reference" data-testid="api-reference-link">
          {t('API reference')}
        </Link>
      </div>
      <p className="small muted">
        {t(
          'Parley posts events to these URLs in order per room, signed the Standard Webhooks way (headers webhook-id, webhook-timestamp, webhook-signature), and retries a failed delivery with growing waits for a day before it is dead-lettered.',
        )}
      </p>
      <NewEndpoint
        onCreated={(e) => {
          setCreated(e);
          void list.reload();
        }}
      />
      {created?.secret && (
        <p role="status" className="notice" data-testid="webhook-secret">
          {t('Signing secret of {url} (shown once):', { url: created.url })} <code>{created.secret}</code>
        </p>
      )}
      <ErrorBox error={list.error} />
      {list.data && list.data.length === 0 && <p className="muted">{t('No endpoints.')}</p>}
      <ul className="webhooks" data-testid="webhook-list">
        {(list.data ?? []).map((e) => (
          <li key={e.id} data-testid="webhook" data-url={e.url}>
            <div className="row between">
              <span>
                <strong>{e.url}</strong> <span className="small muted">{e.events.join(', ')}</span>
              </span>
              <span className="row">
                <span className={`badge ${e.dead > 0 ? 'error' : e.pending > 0 ? 'warn' : 'ok'}`}>
                  {t('{pending} pending, {dead} dead', { pending: e.pending, dead: e.dead })}
                </span>
                <button type="button" onClick={() => setOpen(open === e.id ? undefined : e.id)} aria-expanded={open === e.id}>
                  {t('Deliveries')}
                </button>
                <ConfirmButton
                  label={t('Delete')}
                  confirmLabel={t('Delete endpoint')}
                  ariaLabel={t('Delete webhook {url}', { url: e.url })}
                  onConfirm={async () => {
                    await api.del(path`/api/admin/webhooks/${e.id}`);
                    await list.reload();
                  }}
                />
              </span>
            </div>
            {open === e.id && <Deliveries endpoint={e} onChange={() => void list.reload()} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function NewEndpoint({ onCreated }: { onCreated(e: WebhookEndpoint): void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['*']);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (type: string) => setEvents((cur) => (cur.includes(type) ? cur.filter((x) => x !== type) : [...cur.filter((x) => x !== '*' || type === '*'), type]));
  return (
    <form
      className="stack"
      aria-label={t('New webhook endpoint')}
      onSubmit={async (ev) => {
        ev.preventDefault();
        setBusy(true);
        setError(null);
        try {
          onCreated(await api.post<WebhookEndpoint>('/api/admin/webhooks', { url, events }));
          setUrl('');
        } catch (e) {
          setError(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        {t('Endpoint URL')}
        <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://crm.example.com/parley" data-testid="webhook-url" />
      </label>
      <fieldset className="event-types">
        <legend>{t('Events')}</legend>
        {['*', ...webhookEventTypes].map((type) => (
          <label key={type} className="inline">
            <input type="checkbox" checked={events.includes(type)} onChange={() => toggle(type)} /> {type === '*' ? t('all') : type}
          </label>
        ))}
      </fieldset>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy || events.length === 0} data-testid="webhook-add">
        {t('Add endpoint')}
      </button>
    </form>
  );
}

function Deliveries({ endpoint, onChange }: { endpoint: WebhookEndpoint; onChange(): void }) {
  const [status, setStatus] = useState('');
  const log = useLoad(
    async () => (await api.get<List<WebhookDelivery>>(path`/api/admin/webhooks/${endpoint.id}/deliveries` + (status ? `?status=${status}` : ''))).items,
    [endpoint.id, status],
  );
  const [error, setError] = useState<unknown>(null);
  const act = async (p: Promise<unknown>) => {
    setError(null);
    try {
      await p;
      await log.reload();
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="stack" data-testid="webhook-deliveries">
      <div className="row">
        <label>
          {t('Show')}{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('all')}</option>
            <option value="pending">{t('pending')}</option>
            <option value="delivered">{t('delivered')}</option>
            <option value="dead">{t('dead')}</option>
          </select>
        </label>
        <button type="button" onClick={() => act(api.post(path`/api/admin/webhooks/${endpoint.id}/test`))} data-testid="webhook-test">
          {t('Send test event')}
        </button>
        <button type="button" onClick={() => void log.reload()}>
          {t('Refresh')}
        </button>
      </div>
      <ErrorBox error={error ?? log.error} />
      <div className="table-wrap">
        <table className="small compact">
          <thead>
            <tr>
              <th scope="col">{t('Event')}</th>
              <th scope="col">{t('Room')}</th>
              <th scope="col">{t('Status')}</th>
              <th scope="col">{t('Attempts')}</th>
              <th scope="col">{t('Last attempt')}</th>
              <th scope="col">
                <span className="sr-only">{t('Actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(log.data ?? []).map((d) => (
              <tr key={d.id} data-testid="delivery" data-status={d.status}>
                <th scope="row" title={d.eventId}>
                  {d.eventType}
                  <div className="small muted">{formatTime(d.createdAt)}</div>
                </th>
                <td>{d.room || '—'}</td>
                <td>
                  <span className={`badge ${statusClass[d.status]}`}>{statusText(d.status)}</span>
                  {d.nextAttemptAt && <div className="small muted">{t('next {time}', { time: formatTime(d.nextAttemptAt) })}</div>}
                </td>
                <td>{d.attempts}</td>
                <td>
                  {d.lastAttemptAt ? formatTime(d.lastAttemptAt) : '—'}
                  {(d.lastError || d.lastStatus) && <div className="small muted">{d.lastError || `HTTP ${d.lastStatus}`}</div>}
                </td>
                <td>
                  {d.status !== 'pending' && (
                    <button type="button" onClick={() => act(api.post(path`/api/admin/webhooks/${endpoint.id}/deliveries/${d.id}/replay`))}>
                      {t('Replay')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
