import { useLoad, ErrorBox } from '../ui';
import { t } from '../i18n';

// The rendered reference of GET /api/openapi.json: our own small page rather than a
// third-party viewer, so the dashboard loads nothing from elsewhere.

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  description?: string;
  format?: string;
};
type Media = { schema?: Schema };
type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { $ref?: string; name?: string; in?: string; required?: boolean; schema?: Schema }[];
  requestBody?: { $ref?: string; content?: Record<string, Media> };
  responses: Record<string, { $ref?: string; description?: string; content?: Record<string, Media> }>;
};
type Doc = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation | unknown>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, { description?: string; content?: Record<string, Media> }>;
    parameters: Record<string, { name: string; in: string; required?: boolean; schema?: Schema }>;
    requestBodies: Record<string, { content?: Record<string, Media> }>;
  };
};

const methods = ['get', 'post', 'put', 'patch', 'delete'];
const refName = (ref: string) => ref.split('/').pop() ?? ref;

function TypeOf({ s }: { s?: Schema }) {
  if (!s) return <span className="muted">any</span>;
  if (s.$ref) return <a href={`#schema-${refName(s.$ref)}`}>{refName(s.$ref)}</a>;
  if (s.enum) return <code>{s.enum.map((v) => JSON.stringify(v)).join(' | ')}</code>;
  if (s.type === 'array') return <>[<TypeOf s={s.items} />]</>;
  if (s.properties) return <Props s={s} />;
  return <code>{[s.type].flat().join(' | ') + (s.format ? ` (${s.format})` : '')}</code>;
}

function Props({ s }: { s: Schema }) {
  return (
    <table className="small compact">
      <tbody>
        {Object.entries(s.properties ?? {}).map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
              {s.required?.includes(k) ? '' : '?'}
            </th>
            <td>
              <TypeOf s={v} />
              {v.description && <div className="muted">{v.description}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Body({ content }: { content?: Record<string, Media> }) {
  if (!content) return null;
  return (
    <>
      {Object.entries(content).map(([type, m]) => (
        <div key={type}>
          <span className="small muted">{type}</span> <TypeOf s={m.schema} />
        </div>
      ))}
    </>
  );
}

function Op({ doc, method, path, op }: { doc: Doc; method: string; path: string; op: Operation }) {
  const body = op.requestBody?.$ref ? doc.components.requestBodies[refName(op.requestBody.$ref)] : op.requestBody;
  const open = op.security?.some((s) => Object.keys(s).length === 0);
  return (
    <article className="api-op" id={`${method}-${path}`} data-testid="api-op">
      <h3>
        <code>{method.toUpperCase()}</code> <code>{path}</code> {open && <span className="badge ok">{t('public')}</span>}
      </h3>
      {op.summary && <p>{op.summary}</p>}
      {op.description && <p className="small muted">{op.description}</p>}
      {op.parameters && op.parameters.length > 0 && (
        <ul className="small">
          {op.parameters.map((p) => {
            const q = p.$ref ? doc.components.parameters[refName(p.$ref)] : p;
            return (
              <li key={`${q.in}-${q.name}`}>
                <code>{q.name}</code> {t('in {where}', { where: q.in ?? '' })}
                {q.required ? '' : `, ${t('optional')}`}: <TypeOf s={q.schema} />
              </li>
            );
          })}
        </ul>
      )}
      {body && (
        <div className="small">
          <strong>{t('Body')}</strong> <Body content={body.content} />
        </div>
      )}
      <table className="small compact">
        <tbody>
          {Object.entries(op.responses).map(([code, r]) => {
            const res = r.$ref ? doc.components.responses[refName(r.$ref)] : r;
            return (
              <tr key={code}>
                <th scope="row">{code}</th>
                <td>
                  {res.description} <Body content={res.content} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </article>
  );
}

/** The API reference, rendered from the server's own OpenAPI document. */
export function ApiReferencePage() {
  const doc = useLoad(async () => {
    const res = await fetch('/api/openapi.json');
    if (!res.ok) throw new Error(`GET /api/openapi.json: ${res.status}`);
    return (await res.json()) as Doc;
  }, []);
  const d = doc.data;
  return (
    <div className="api-reference">
      <h1>{t('API reference')}</h1>
      <ErrorBox error={doc.error} />
      {d && (
        <>
          <p className="small muted">
            {d.info.title} {d.info.version} · <a href="/api/openapi.json">openapi.json</a> (OpenAPI 3.1)
          </p>
          <p>{d.info.description}</p>
          {Object.entries(d.paths).flatMap(([p, item]) =>
            methods.filter((m) => item[m]).map((m) => <Op key={`${m} ${p}`} doc={d} method={m} path={p} op={item[m] as Operation} />),
          )}
          <h2>{t('Schemas')}</h2>
          {Object.entries(d.components.schemas).map(([name, s]) => (
            <article key={name} id={`schema-${name}`} className="api-op">
              <h3>
                <code>{name}</code>
              </h3>
              {s.description && <p className="small muted">{s.description}</p>}
              {s.properties ? <Props s={s} /> : <TypeOf s={s} />}
            </article>
          ))}
        </>
      )}
    </div>
  );
}
