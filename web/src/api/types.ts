// Shapes of the Parley HTTP API (shared/API.md).

export type Role = 'admin' | 'user';
export type JoinRole = 'owner' | 'moderator' | 'participant' | 'guest';
export type Source = 'camera' | 'microphone' | 'screen_share' | 'screen_share_audio';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

export interface AuthResponse {
  user: User;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt?: string;
}

export interface Permissions {
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  canPublishSources: Source[];
}

export interface Room {
  name: string;
  title: string;
  ownerId: string;
  public: boolean;
  allowGuests: boolean;
  locked: boolean;
  maxParticipants: number;
  autoRecord?: boolean;
  defaultPermissions?: Permissions;
  moderators?: string[];
  inviteCode?: string;
  active?: boolean;
  numParticipants?: number;
  createdAt?: string;
}

export interface JoinResponse {
  token: string;
  url: string;
  identity: string;
  name: string;
  role: JoinRole;
  room: Room;
}

export interface TrackInfo {
  sid: string;
  source: Source | string;
  kind: 'audio' | 'video';
  muted: boolean;
}

export interface Participant {
  identity: string;
  name: string;
  userId?: string;
  role?: string;
  state?: 'joining' | 'joined' | 'left';
  joinedAt?: string;
  leftAt?: string;
  tracks?: TrackInfo[];
}

export interface Recording {
  id: string;
  room: string;
  backend: 'builtin' | 'egress';
  status: 'starting' | 'active' | 'ending' | 'complete' | 'failed' | 'aborted';
  startedBy?: string;
  startedAt: string;
  endedAt?: string;
  durationSeconds?: number;
  sizeBytes?: number;
  error?: string;
  fileURL?: string;
}

export interface List<T> {
  items: T[];
  nextCursor?: string;
}

export interface Usage {
  participantMinutes?: number;
  peakConcurrency?: number;
  daily?: { date: string; participantMinutes: number }[];
  byRoom?: { key: string; participantMinutes: number }[];
}

export interface Overview {
  livekit?: {
    mode?: string;
    state?: string;
    version?: string;
    url?: string;
    restarts?: number;
    startedAt?: string;
    reason?: string;
  };
  counts?: Record<string, number>;
  usage?: Usage;
}

/** An active room as the admin dashboard shows it. */
export interface LiveRoom {
  room: Partial<Room> & { name: string };
  participants: Participant[];
}
