// Shapes of the Parley HTTP API (docs/API.md). Each mirrors one response type of
// internal/api (dto.go and the resource files), field for field.

export type Role = 'admin' | 'user';
export type JoinRole = 'owner' | 'moderator' | 'participant' | 'guest';
export type Source = 'camera' | 'microphone' | 'screen_share' | 'screen_share_audio';

/** userJSON */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  /** false only for an account registered while the server sends mail, until its link is opened */
  emailVerified: boolean;
  createdAt: string;
}

/** GET /api/auth/passkeys: one of the caller's passkeys. */
export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** grantJSON: register, login and refresh. */
/** GET /api/auth/providers: the ways to sign in this server offers. */
export interface AuthProviders {
  password: boolean;
  passkeys: boolean;
  passwordReset: boolean;
  oidc: { name: string; displayName: string; loginURL: string }[];
}

export interface AuthResponse {
  user: User;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
}

/** permissionsJSON: a room's defaults and a participant's own. */
export interface Permissions {
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  canPublishSources: Source[];
}

/** roomJSON */
export interface Room {
  name: string;
  title: string;
  ownerId: string;
  public: boolean;
  allowGuests: boolean;
  locked: boolean;
  maxParticipants: number;
  autoRecord: boolean;
  /** Guests (and with lobbyUsers signed-in users who do not moderate) wait to be let in. */
  lobby: boolean;
  lobbyUsers: boolean;
  defaultPermissions: Permissions;
  moderators: string[];
  /** Only for the owner, moderators and admins of a private room. */
  inviteCode?: string;
  active: boolean;
  numParticipants: number;
  createdAt: string;
  updatedAt: string;
}

/** joinJSON */
export interface JoinResponse {
  token: string;
  url: string;
  identity: string;
  name: string;
  role: JoinRole;
  room: Room;
  /** Set when the token is for one of the room's breakout rooms. */
  breakout?: { room: number; endsAt?: string };
}

/** scheduleJSON: a planned meeting; start and end are local times in timeZone. */
export interface Schedule {
  id: string;
  room: string;
  title: string;
  start: string;
  end: string;
  timeZone: string;
  rrule?: string;
  invitees: string[];
  lobbyOpensMinutes: number;
  next: string[];
  /** Occurrences cancelled one by one (RFC 3339 starts). */
  cancelled: string[];
  sequence: number;
  /** The built-in recorder records each occurrence while someone publishes. */
  autoRecord: boolean;
}

/** feedJSON: the caller's calendar feed URL; url only in the answer that made it. */
export interface CalendarFeed {
  exists: boolean;
  createdAt?: string;
  url?: string;
}

/** breakoutsJSON: a running split of a meeting into breakout rooms (no rooms: none runs). */
export interface BreakoutSet {
  rooms: { number: number; livekitRoom: string; identities: string[] }[];
  endsAt?: string;
  startedAt?: string;
}

/** lobbyTicketJSON: the answer (202, under `lobby`) of a join that waits in the lobby. */
export interface LobbyTicket {
  ticket: string;
  id: string;
  room: string;
  position: number;
  expiresAt: string;
}

/** lobbyStatusJSON: a ticket as its holder sees it. */
export interface LobbyStatus {
  status: 'waiting' | 'admitted' | 'denied' | 'expired' | 'error';
  room: string;
  position?: number;
  moderatorPresent: boolean;
  expiresAt: string;
  join?: JoinResponse;
  error?: { code: string; message: string };
}

/** lobbyEntryJSON: one waiting person, for moderators. */
export interface LobbyEntry {
  ticket: string;
  name: string;
  guest: boolean;
  since: string;
  expiresAt: string;
}

/** trackJSON */
export interface TrackInfo {
  sid: string;
  source: Source | string;
  kind: 'audio' | 'video';
  muted: boolean;
}

/** participantJSON: from the live state (participants lists, sid set) or from LiveKit
 * (the answer to a permissions change, permissions set). */
export interface Participant {
  identity: string;
  sid?: string;
  name: string;
  userId?: string;
  role: string;
  state: 'joining' | 'joined' | 'left';
  joinedAt: string | null;
  leftAt?: string;
  leaveReason?: string;
  tracks: TrackInfo[];
  permissions?: Permissions;
}

/** recordingJSON */
export interface Recording {
  id: string;
  room: string;
  /** The room's title when the room still exists. */
  roomTitle?: string;
  backend: 'builtin' | 'egress';
  status: 'starting' | 'active' | 'ending' | 'complete' | 'failed' | 'aborted';
  startedBy: string;
  startedAt: string;
  endedAt?: string;
  durationSeconds?: number;
  sizeBytes?: number;
  error?: string;
  note?: string;
  progress?: number;
  fileURL?: string;
  /** Failed compositions or uploads so far. */
  attempts?: number;
  /** A failed recording Parley will compose again at nextRetryAt. */
  retryable?: boolean;
  nextRetryAt?: string;
}

/** httpx.List */
export interface List<T> {
  items: T[];
  nextCursor?: string;
}

/** usageJSON */
export interface Usage {
  since: string;
  participantMinutes: number;
  peakConcurrency: number;
  sessions: number;
  daily: { date: string; participantMinutes: number }[];
  byRoom: { key: string; title?: string; participantMinutes: number }[];
  byUser: { key: string; participantMinutes: number }[];
}

/** liveKitStatusJSON */
export interface LiveKitStatus {
  mode: 'embedded' | 'external' | string;
  state: string;
  version: string;
  url: string;
  restarts: number;
  startedAt?: string;
  reason?: string;
  /** The recent restarts of the embedded LiveKit, oldest first. */
  restartLog: { at: string; reason: string }[];
}

/** overviewJSON: GET /api/admin/overview. */
export interface Overview {
  livekit: LiveKitStatus;
  counts: { users: number; rooms: number; activeRooms: number; participants: number; activeRecordings: number };
  usage: Usage;
}

/** doctorItem: one deployment check of GET /api/admin/doctor (`parley doctor`'s table). */
export interface DoctorItem {
  check: string;
  status: 'PASS' | 'WARN' | 'FAIL';
  detail: string;
  /** Empty on PASS. */
  fix: string;
}

/** liveRoomJSON: a running room with the participants in it now (GET /api/admin/rooms). */
export interface LiveRoom {
  name: string;
  title?: string;
  sid: string;
  active: boolean;
  startedAt: string;
  participants: Participant[];
}

/** The event names the server sends on its event streams (live's Event* constants). */
export type EventType =
  | 'room_started'
  | 'room_finished'
  | 'participant_joined'
  | 'participant_left'
  | 'track_published'
  | 'track_unpublished'
  | 'track_muted'
  | 'recording_status'
  | 'livekit_state'
  | 'lobby_changed'
  | 'breakouts_changed';

/** eventJSON: one event's data. */
export interface LiveEvent {
  type: EventType;
  room?: string;
  participant?: string;
  data?: unknown;
  at: string;
}

/** An outbound webhook event type an endpoint can subscribe to ('*' for all). */
export const webhookEventTypes = [
  'room.started',
  'room.finished',
  'participant.joined',
  'participant.left',
  'track.published',
  'track.unpublished',
  'recording.started',
  'recording.completed',
  'recording.failed',
  'recording.aborted',
] as const;

/** webhookJSON: a registered endpoint; secret only in the answer to its creation. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  pending: number;
  dead: number;
  createdAt: string;
}

/** deliveryJSON: one event's delivery to one endpoint, with its last attempt. */
export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  room?: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  createdAt: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: string;
  payload: string;
}
