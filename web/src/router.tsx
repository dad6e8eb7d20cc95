// The app's routing, on wouter: a router of a couple of KB where React Router weighs tens, which
// keeps the first page's script under its budget. The few helpers below give its hooks the
// names the pages use.
import type { AnchorHTMLAttributes } from 'react';
import { Link, Redirect, useLocation, useSearch } from 'wouter';

export { Link, Route, Switch, useParams, useSearchParams } from 'wouter';

/** navigate(to, { replace }) */
export function useNavigate() {
  return useLocation()[1];
}

/** A link that says when it points at the page shown (class "active", aria-current). */
export function NavLink({ to, className, ...rest }: Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; 'data-testid'?: string }) {
  const [here] = useLocation();
  const active = here === to;
  return <Link to={to} className={[className, active ? 'active' : ''].filter(Boolean).join(' ') || undefined} aria-current={active ? 'page' : undefined} {...rest} />;
}

/** Sends the browser elsewhere once rendered, replacing the current history entry. */
export function Navigate({ to }: { to: string }) {
  return <Redirect to={to} replace />;
}

/** The path and query of the page shown, e.g. for a sign-in's "next". */
export function useHere(): string {
  const [path] = useLocation();
  const search = useSearch();
  return search ? `${path}?${search}` : path;
}
