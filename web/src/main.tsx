import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { setLogLevel } from 'livekit-client';
import { App } from './App';
import './styles.css';

// livekit-client logs expected events (a data channel closing when a moderator removes you)
// as console errors; the app reports real failures itself. localStorage parley.debug=1 shows them.
setLogLevel(localStorage.getItem('parley.debug') === '1' ? 'debug' : 'silent');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
