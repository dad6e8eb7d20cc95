import { useState } from 'react';
import { api } from '../api';
import type { DoctorItem, List } from '../api/types';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

const statusClass: Record<DoctorItem['status'], string> = { PASS: 'ok', WARN: 'warn', FAIL: 'error' };

/** The deployment checks of `parley doctor`, run on demand: a run opens a test room and takes seconds. */
export function AdminDoctor() {
  const [items, setItems] = useState<DoctorItem[]>();
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);

  async function run() {
    setRunning(true);
    setError(null);
    try {
      setItems((await api.get<List<DoctorItem>>('/api/admin/doctor')).items);
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  }

  return (
    <section aria-labelledby="doctor-h">
      <div className="row between">
        <h2 id="doctor-h">{t('Deployment checks')}</h2>
        <button type="button" onClick={run} disabled={running} data-testid="doctor-run">
          {running ? t('Checking…') : t('Run checks')}
        </button>
      </div>
      <ErrorBox error={error} />
      {items && (
        <div className="table-wrap">
          <table className="small" data-testid="doctor-table">
            <thead>
              <tr>
                <th scope="col">{t('Check')}</th>
                <th scope="col">{t('Status')}</th>
                <th scope="col">{t('Finding')}</th>
                <th scope="col">{t('Fix')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <tr key={it.check} data-testid="doctor-row" data-check={it.check} data-status={it.status}>
                  <th scope="row">{it.check}</th>
                  <td>
                    <span className={`badge ${statusClass[it.status]}`}>{it.status}</span>
                  </td>
                  <td>{it.detail}</td>
                  <td>{it.fix || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
