import { lazy, Suspense } from 'react';
import { NavLink, Route, Routes, useNavigate } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth';
import { AuthPage } from './pages/AuthPage';
import { RoomsPage } from './pages/RoomsPage';
import { RequireUser } from './ui';

// The meeting (livekit-client), the admin dashboard and the rarer pages load on first use, so
// signing in and the room list stay small.
const JoinPage = lazy(() => import('./pages/JoinPage').then((m) => ({ default: m.JoinPage })));
const RecordingsPage = lazy(() => import('./pages/RecordingsPage').then((m) => ({ default: m.RecordingsPage })));
const AdminPage = lazy(() => import('./admin/AdminPage').then((m) => ({ default: m.AdminPage })));
const ProfilePage = lazy(() => import('./pages/ProfilePage').then((m) => ({ default: m.ProfilePage })));

function Header() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="topbar">
      <NavLink to="/" className="brand" aria-label="Parley home">
        Parley
      </NavLink>
      <nav aria-label="Main">
        {user && <NavLink to="/">Rooms</NavLink>}
        {user && <NavLink to="/recordings">Recordings</NavLink>}
        {user?.role === 'admin' && (
          <NavLink to="/admin" data-testid="nav-admin">
            Admin
          </NavLink>
        )}
      </nav>
      <div className="who">
        {user ? (
          <>
            <NavLink to="/profile" data-testid="signed-in-as" aria-label={`Profile of ${user.name}`}>
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
              Sign out
            </button>
          </>
        ) : (
          <NavLink to="/login">Sign in</NavLink>
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
        <Suspense fallback={<p className="muted" role="status">Loading…</p>}>
        <Routes>
          <Route path="/login" element={<AuthPage mode="login" />} />
          <Route path="/register" element={<AuthPage mode="register" />} />
          <Route path="/r/:name" element={<JoinPage />} />
          <Route
            path="/recordings"
            element={
              <RequireUser>
                <RecordingsPage />
              </RequireUser>
            }
          />
          <Route
            path="/admin"
            element={
              <RequireUser admin>
                <AdminPage />
              </RequireUser>
            }
          />
          <Route
            path="*"
            element={
              <RequireUser>
                <RoomsPage />
              </RequireUser>
            }
          />
          <Route
            path="/profile"
            element={
              <RequireUser>
                <ProfilePage />
              </RequireUser>
            }
          />
        </Routes>
        </Suspense>
      </main>
    </AuthProvider>
  );
}
