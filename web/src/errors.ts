// The API's error codes in the user's language. The server's English message is more precise
// (it may name a field or a limit), so English keeps it; another language shows the code's
// translation, and the server's text when the code is one without a fixed meaning.
import { ApiError } from './api/client';
import { language, t } from './i18n';

const byCode: Record<string, () => string> = {
  already_recording: () => t('The room is already being recorded: stop that recording first.'),
  banned: () => t('You are banned from this room.'),
  breakouts_running: () => t('Breakout rooms are already running: end them first.'),
  e2ee_room: () => t('The meeting is end-to-end encrypted: the server cannot record it, as it never holds the key.'),
  email_taken: () => t('An account with this email already exists.'),
  file_not_found: () => t('This recording has no file: only complete recordings can be downloaded.'),
  guests_not_allowed: () => t('This room does not admit guests: sign in to join.'),
  in_lobby: () => t('You are waiting in the lobby: a moderator has to let you in first.'),
  internal: () => t('Something went wrong on the server. Try again, or tell an administrator.'),
  invalid_credentials: () => t('Wrong email or password.'),
  invalid_state: () => t('This sign-in expired or was started in another browser: start it again.'),
  invalid_token: () => t('This link is unknown, expired or already used: ask for a new one.'),
  last_admin: () => t('This is the last administrator: promote another user first.'),
  livekit_refused: () => t('The media server refused this request.'),
  livekit_unavailable: () => t('The media server is unavailable: try again shortly.'),
  lobby_not_open: () => t('The lobby opens shortly before the scheduled meeting: come back then.'),
  mail_disabled: () => t('This server sends no email: ask an administrator.'),
  name_taken: () => t('A room with this name already exists.'),
  network_error: () => t('The server could not be reached. Check your connection and try again.'),
  not_invited: () => t('This room is private: an invite link is required.'),
  participant_not_found: () => t('This person is no longer in the meeting.'),
  password_login_disabled: () => t('Password sign-in is turned off on this server: use single sign-on.'),
  provider_unavailable: () => t('The identity provider could not be reached: try again later.'),
  rate_limited: () => t('Too many attempts: wait a little and try again.'),
  recording_live: () => t('The recording is still in progress: stop it before deleting it.'),
  recording_not_found: () => t('This recording does not exist.'),
  recording_not_live: () => t('The recording has already finished.'),
  registration_disabled: () => t('Registration is closed on this server: ask an administrator for an account.'),
  room_full: () => t('The room is full.'),
  room_locked: () => t('The room is locked.'),
  room_not_active: () => t('The room has no meeting in progress to record.'),
  room_not_found: () => t('This room does not exist.'),
  session_revoked: () => t('This session has ended: sign in again.'),
  ticket_closed: () => t('This person no longer waits in the lobby.'),
  ticket_not_found: () => t('Your place in the lobby expired: ask to join again.'),
  token_expired: () => t('Your session has expired: sign in again.'),
  unauthorized: () => t('Sign in to do this.'),
  user_disabled: () => t('This account is disabled.'),
  user_not_found: () => t('This user does not exist.'),
};

/** The message to show for an API error, in the user's language. */
export function apiErrorText(e: ApiError): string {
  const translated = byCode[e.code];
  return language() === 'en' || !translated ? e.message : translated();
}
