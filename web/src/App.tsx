import { NavLink, Route, Routes, useNavigate } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth';
import { AuthPage } from './pages/AuthPage';
import { RoomsPage } from './pages/RoomsPage';
import { JoinPage } from './pages/JoinPage';
import { RecordingsPage } from './pages/RecordingsPage';
import { AdminPage } from './admin/AdminPage';
import { RequireUser } from './ui';

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
            <span className="muted" data-testid="signed-in-as">
              {user.name}
            </span>
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
        </Routes>
      </main>
    </AuthProvider>
  );
}
