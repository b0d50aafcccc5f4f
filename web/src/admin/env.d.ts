interface ImportMetaEnv {
  /** The preference center's address, for the admin's preview link; defaults to /preferences/ beside the API. */
  readonly VITE_PREFERENCES_URL?: string;
}
