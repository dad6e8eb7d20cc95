import { ApiClient, storageTokenStore } from './client';

/** The app's one API client; tokens live in localStorage. */
export const api = new ApiClient({ store: storageTokenStore(localStorage) });

export { ApiError, path } from './client';
