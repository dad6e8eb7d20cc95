import { lazy, Suspense } from 'react';
import { NavLink, Route, Switch, useNavigate } from './router';
import { AuthProvider, useAuth } from './auth';
import { AuthPage } from './pages/AuthPage';
import { RoomsPage } from './pages/RoomsPage';
import { RequireUser } from './ui';
import { t } from './i18n';

// The meeting (livekit-client), the admin dashboard and the rarer pages load on first use, so
// signing in and the room list stay small.
const JoinPage = lazy(() => import('./pages/JoinPage').then((m) => ({ default: m.JoinPage })));
const RecordingsPage = lazy(() => import('./pages/RecordingsPage').then((m) => ({ default: m.RecordingsPage })));
const AdminPage = lazy(() => import('./admin/AdminPage').then((m) => ({ default: m.AdminPage })));
const ApiReferencePage = lazy(() => import('./pages/ApiReferencePage').then((m) => ({ default: m.ApiReferencePage })));
const CheckPage = lazy(() => import('./pages/CheckPage').then((m) => ({ default: m.CheckPage })));
const ForgotPage = lazy(() => import('./pages/ResetPage').then((m) => ({ default: m.ForgotPage })));
const ResetPage = lazy(() => import('./pages/ResetPage').then((m) => ({ default: m.ResetPage })));
const VerifyBanner = lazy(() => import('./pages/VerifyBanner').then((m) => ({ default: m.VerifyBanner })));
const VerifyPage = lazy(() => import('./pages/ResetPage').then((m) => ({ default: m.VerifyPage })));
const ProfilePage = lazy(() => import('./pages/ProfilePage').then((m) => ({ default: m.ProfilePage })));

function Header() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="topbar">
      <NavLink to="/" className="brand" aria-label={t('Parley home')}>
        Parley
      </NavLink>
      <nav aria-label={t('Main')}>
        {user && <NavLink to="/">{t('Rooms')}</NavLink>}
        {user && <NavLink to="/recordings">{t('Recordings')}</NavLink>}
        <NavLink to="/check" data-testid="nav-check">
          {t('Test devices')}
        </NavLink>
        {user?.role === 'admin' && (
          <NavLink to="/admin" data-testid="nav-admin">
            {t('Admin')}
          </NavLink>
        )}
      </nav>
      <div className="who">
        {user ? (
          <>
            <NavLink to="/profile" data-testid="signed-in-as" aria-label={t('Profile of {name}', { name: user.name })}>
              {user.name}
            </NavLink>
            <button
              type="button"
              className="link"
              onClick={async () => {
                await logout();
                navigate('/login');
              }}
            >
              {t('Sign out')}
            </button>
          </>
        ) : (
          <NavLink to="/login">{t('Sign in')}</NavLink>
        )}
      </div>
    </header>
  );
}

export function App() {
  return (
    <AuthProvider>
      <Header />
      <main id="main">
        <Suspense fallback={null}>
          <VerifyBanner />
        </Suspense>
        <Suspense fallback={<p className="muted" role="status">{t('Loading…')}</p>}>
        <Switch>
          <Route path="/login">
            <AuthPage mode="login" />
          </Route>
          <Route path="/forgot">
            <ForgotPage />
          </Route>
          <Route path="/reset">
            <ResetPage />
          </Route>
          <Route path="/verify">
            <VerifyPage />
          </Route>
          <Route path="/register">
            <AuthPage mode="register" />
          </Route>
          <Route path="/check">
            <CheckPage />
          </Route>
          <Route path="/r/:name">
            <JoinPage />
          </Route>
          <Route path="/recordings">
            <RequireUser>
              <RecordingsPage />
            </RequireUser>
          </Route>
          <Route path="/admin">
            <RequireUser admin>
              <AdminPage />
            </RequireUser>
          </Route>
          <Route path="/reference">
            <ApiReferencePage />
          </Route>
          <Route path="/profile">
            <RequireUser>
              <ProfilePage />
            </RequireUser>
          </Route>
          <Route>
            <RequireUser>
              <RoomsPage />
            </RequireUser>
          </Route>
        </Switch>
        </Suspense>
      </main>
    </AuthProvider>
  );
}
